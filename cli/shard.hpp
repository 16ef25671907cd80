// Shards: a stable partition of a batch's inputs over N machines or array tasks.
//
// Takes: an input's key (its path relative to its input root, '/'-separated), "I/N" from
// --shard, or the scheduler's environment (Slurm job arrays, Kubernetes Indexed Jobs).
// Gives: which shard owns an input, and this process's shard. Plain C++: no docling types,
// so tests compile it on its own.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace dcli {

struct Shard {
  int index = 0, count = 1;  // index in [0, count)
  bool all() const { return count == 1; }
  std::string label() const;  // "2-of-8" (ledger file names), "" for a single shard
};

// 64-bit FNV-1a of the key's bytes: fixed by its definition, so every machine, compiler and
// standard library puts a file in the same shard (std::hash promises none of that).
uint64_t fnv1a64(std::string_view bytes);
inline bool owns(const Shard& s, std::string_view key) { return s.all() || fnv1a64(key) % uint64_t(s.count) == uint64_t(s.index); }

// "I/N" with 0 <= I < N <= 1e6. Throws std::invalid_argument with the reason.
Shard parse_shard(const std::string& spec);

// The shard a scheduler gave this process, from `getenv` (a function, so tests can feed it):
// Slurm job arrays (SLURM_ARRAY_TASK_ID with SLURM_ARRAY_TASK_COUNT, or with _MIN and _MAX:
// task ids need not start at 0), else Kubernetes Indexed Jobs (JOB_COMPLETION_INDEX, with
// `shards` from --shards N since the pod is not told the count). nullopt when none applies;
// throws std::invalid_argument for values that make no shard (naming the variable).
using GetEnv = std::function<const char*(const char*)>;
std::optional<Shard> shard_from_environment(const GetEnv& getenv, int shards);

}  // namespace dcli
