// docling-cpp status OUTDIR: what the ledgers of an output folder say (every shard's):
// documents done, partial, failed with their reasons, missing (against the inputs, when
// given), pages per hour. Exit 0 when complete, 1 when something failed or is missing.
#include <algorithm>
#include <cstdio>
#include <map>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "cli.hpp"
#include "ledger.hpp"

namespace fs = std::filesystem;

namespace dcli {

namespace {

struct Flags {
  std::string outdir, from_list;
  std::vector<std::string> inputs;
  bool json = false;
  int show = 20;
};

struct Report {
  int ledgers = 0, torn = 0, bad_lines = 0;
  std::map<std::string, LedgerEntry> last;  // input → its latest line (sorted: stable output)
  long pages_ok = 0, pages_failed = 0;
  double busy_s = 0;  // wall time during which some document was being converted
  std::vector<std::string> missing;
};

// Conversions overlap (workers, shards): busy time is the union of each line's interval
// [finished - seconds, finished], so pages/hour is the pace of the whole, not of one worker.
double union_seconds(std::vector<std::pair<double, double>> spans) {
  std::sort(spans.begin(), spans.end());
  double total = 0, start = 0, end = -1;
  for (auto [a, b] : spans) {
    if (a > end) {
      if (end > start) total += end - start;
      start = a, end = b;
    } else {
      end = std::max(end, b);
    }
  }
  if (end > start) total += end - start;
  return total;
}

Report read_all(const Flags& f) {
  Report r;
  std::vector<std::pair<double, double>> spans;
  for (const fs::path& file : find_ledgers(f.outdir)) {
    LedgerRead lr = read_ledger(file);
    ++r.ledgers;
    r.torn += lr.torn_tail;
    r.bad_lines += lr.bad_lines;
    for (LedgerEntry& e : lr.entries) {
      spans.push_back({e.finished - e.seconds, e.finished});
      auto it = r.last.find(e.input);
      if (it == r.last.end() || it->second.finished <= e.finished) r.last[e.input] = std::move(e);
    }
  }
  for (const auto& [key, e] : r.last) r.pages_ok += e.pages_ok, r.pages_failed += e.pages_failed;
  r.busy_s = union_seconds(std::move(spans));
  return r;
}

void find_missing(const Flags& f, Report& r) {
  if (f.inputs.empty() && f.from_list.empty()) return;
  std::vector<Source> all = f.inputs.empty() ? std::vector<Source>() : collect_sources(f.inputs, {Kind::Pdf, Kind::Image});
  if (!f.from_list.empty()) {
    std::vector<Source> listed = list_sources(f.from_list);
    all.insert(all.end(), listed.begin(), listed.end());
  }
  for (const Source& s : all)
    if (!s.is_stdin() && !r.last.count(json_key(s.key))) r.missing.push_back(s.key);
}

int count(const Report& r, const char* status) {
  return int(std::count_if(r.last.begin(), r.last.end(), [&](const auto& kv) { return kv.second.status == status; }));
}

std::string first_reason(const LedgerEntry& e) {
  if (e.errors.empty()) return "no reason recorded";
  const PageError& p = e.errors.front();
  std::string more = e.errors.size() > 1 ? " (+" + std::to_string(e.errors.size() - 1) + " more)" : "";
  return p.reason + more;
}

void print_text(const Flags& f, const Report& r) {
  double per_hour = r.busy_s > 0 ? r.pages_ok * 3600.0 / r.busy_s : 0;
  std::printf("%s: %zu document(s) in %d ledger(s): %d succeeded, %d partial, %d failed", display(f.outdir).c_str(),
              r.last.size(), r.ledgers, count(r, "SUCCESS"), count(r, "PARTIAL"), count(r, "FAILURE"));
  if (!f.inputs.empty() || !f.from_list.empty()) std::printf(", %zu missing", r.missing.size());
  std::printf("\npages: %ld converted, %ld failed; %.0f pages/h over %.1f min of conversion\n", r.pages_ok,
              r.pages_failed, per_hour, r.busy_s / 60);
  int shown = 0;
  for (const auto& [key, e] : r.last) {
    if (e.status != "FAILURE" && e.status != "PARTIAL") continue;
    if (shown++ == f.show) {
      std::printf("  ... (--show N lists more)\n");
      break;
    }
    std::printf("  %s %s: %s\n", e.status.c_str(), escape(key).c_str(), escape(first_reason(e)).c_str());
  }
  for (size_t i = 0; i < r.missing.size(); ++i) {
    if (int(i) == f.show) {
      std::printf("  ... %zu more missing\n", r.missing.size() - i);
      break;
    }
    std::printf("  MISSING %s\n", escape(r.missing[i]).c_str());
  }
  if (r.torn) std::printf("note: %d ledger(s) end in a line being written (a run in progress, or killed)\n", r.torn);
  if (r.bad_lines) std::printf("note: %d line(s) that are not ledger lines were skipped\n", r.bad_lines);
}

void print_json(const Report& r) {
  using nlohmann::ordered_json;
  ordered_json failed = ordered_json::array(), partial = ordered_json::array();
  for (const auto& [key, e] : r.last) {
    ordered_json reasons = ordered_json::array();
    for (const PageError& p : e.errors) reasons.push_back({{"page", p.page}, {"reason", p.reason}});
    if (e.status == "FAILURE") failed.push_back({{"input", key}, {"errors", reasons}});
    if (e.status == "PARTIAL") partial.push_back({{"input", key}, {"errors", reasons}});
  }
  ordered_json j = {{"ledgers", r.ledgers},
                    {"documents", r.last.size()},
                    {"success", count(r, "SUCCESS")},
                    {"partial", partial},
                    {"failure", failed},
                    {"missing", r.missing},
                    {"pages_ok", r.pages_ok},
                    {"pages_failed", r.pages_failed},
                    {"busy_s", r.busy_s},
                    {"pages_per_hour", r.busy_s > 0 ? r.pages_ok * 3600.0 / r.busy_s : 0.0}};
  std::printf("%s\n", j.dump(2, ' ', false, ordered_json::error_handler_t::replace).c_str());
}

}  // namespace

int cmd_status(int argc, char** argv) {
  CLI::App app;
  Flags f;
  setup_app(app, "usage: docling-cpp status OUTDIR [--inputs FILES|DIRS...] [--from-list FILE] [--json]",
            "Reads every ledger in OUTDIR (all shards) and says what is done, partial, failed\n"
            "(with reasons) and, given the inputs, missing; and the pace in pages per hour.\n"
            "Exit codes: 0 complete, 1 some documents failed or are missing, 2 usage error.");
  app.add_option("outdir", f.outdir, "the output folder of convert")->required()->type_name("OUTDIR");
  app.add_option("--inputs", f.inputs, "the inputs convert was given (to list what is missing)")->type_name("FILES|DIRS");
  app.add_option("--from-list", f.from_list, "the --from-list file convert was given ('-': stdin)")->type_name("FILE");
  app.add_flag("--json", f.json, "one JSON object on stdout");
  app.add_option("--show", f.show, "list at most N failed and N missing documents (default: 20)")->type_name("N");
  if (int code = parse(app, argc, argv); code >= 0) return code;
  Report r;
  try {
    std::error_code ec;
    if (!fs::is_directory(f.outdir, ec)) throw UsageError(display(f.outdir) + ": not a folder");
    r = read_all(f);
    if (r.ledgers == 0) throw UsageError(display(f.outdir) + ": no ledger (docling-cpp.ledger*.jsonl) in this folder");
    find_missing(f, r);
  } catch (const UsageError& e) {
    print_error(e.what());
    return kExitUsage;
  } catch (const std::exception& e) {
    print_error(escape(e.what()));
    return kExitUsage;
  }
  if (f.json) print_json(r);
  else print_text(f, r);
  return count(r, "FAILURE") || !r.missing.empty() ? kExitFailed : kExitOk;
}

}  // namespace dcli
