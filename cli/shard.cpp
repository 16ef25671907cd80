// Shards (see shard.hpp).
#include "shard.hpp"

#include <cerrno>
#include <cstdlib>
#include <stdexcept>

namespace dcli {

std::string Shard::label() const {
  return all() ? std::string() : std::to_string(index) + "-of-" + std::to_string(count);
}

uint64_t fnv1a64(std::string_view bytes) {
  uint64_t h = 0xcbf29ce484222325ull;  // the FNV-1a 64-bit offset basis and prime
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  return h;
}

namespace {

constexpr long kMaxShards = 1000000;

// A whole number from lo to hi, the whole text; `what` names it in the error.
long whole(const std::string& what, const char* text, long lo, long hi) {
  if (!text || !*text) throw std::invalid_argument(what + " is empty");
  char* end = nullptr;
  errno = 0;
  long v = std::strtol(text, &end, 10);
  if (*end || errno || v < lo || v > hi)
    throw std::invalid_argument(what + " wants a whole number from " + std::to_string(lo) + " to " +
                                std::to_string(hi) + ", got '" + text + "'");
  return v;
}

Shard checked(long index, long count, const std::string& what) {
  if (index < 0 || index >= count)
    throw std::invalid_argument(what + ": shard " + std::to_string(index) + " is not below the count " +
                                std::to_string(count));
  return Shard{int(index), int(count)};
}

}  // namespace

Shard parse_shard(const std::string& spec) {
  size_t slash = spec.find('/');
  if (slash == std::string::npos) throw std::invalid_argument("--shard wants I/N (e.g. 0/4), got '" + spec + "'");
  long n = whole("--shard's N", spec.substr(slash + 1).c_str(), 1, kMaxShards);
  long i = whole("--shard's I", spec.substr(0, slash).c_str(), 0, kMaxShards - 1);
  return checked(i, n, "--shard");
}

std::optional<Shard> shard_from_environment(const GetEnv& getenv, int shards) {
  if (const char* id = getenv("SLURM_ARRAY_TASK_ID")) {
    long task = whole("SLURM_ARRAY_TASK_ID", id, 0, 1L << 40);
    const char* min = getenv("SLURM_ARRAY_TASK_MIN");
    const char* max = getenv("SLURM_ARRAY_TASK_MAX");
    const char* count = getenv("SLURM_ARRAY_TASK_COUNT");
    long lo = min ? whole("SLURM_ARRAY_TASK_MIN", min, 0, 1L << 40) : 0;
    long n = count ? whole("SLURM_ARRAY_TASK_COUNT", count, 1, kMaxShards)
             : max ? whole("SLURM_ARRAY_TASK_MAX", max, lo, 1L << 40) - lo + 1
                   : 0;
    if (n == 0) throw std::invalid_argument("SLURM_ARRAY_TASK_ID is set without SLURM_ARRAY_TASK_COUNT or _MAX");
    // An array with a step (--array=0-15:4) has ids that are not consecutive: refuse it rather
    // than leave shards with no task.
    return checked(task - lo, n, "SLURM_ARRAY_TASK_ID");
  }
  if (const char* k = getenv("JOB_COMPLETION_INDEX")) {
    long index = whole("JOB_COMPLETION_INDEX", k, 0, kMaxShards - 1);
    if (shards <= 0) throw std::invalid_argument("JOB_COMPLETION_INDEX is set: give the job's completions with --shards N");
    return checked(index, shards, "JOB_COMPLETION_INDEX");
  }
  return std::nullopt;
}

}  // namespace dcli
