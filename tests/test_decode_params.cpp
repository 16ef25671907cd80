// The decode kernels' block sizes: any valid choice gives the same products bit for bit (they
// change the order of work, not the sums), out-of-range values are refused, the CPU table
// picks its rows by vendor/family/model, the measurement returns a valid choice and puts the
// settings back, and the per-CPU cache file is written, reused and replaced when it is not
// ours. Also the large-page allocation the decoder's weights and KV cache use.
#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include <unistd.h>

#include <tbb/task_arena.h>

#include "core/half.h"
#include "docling/docling.hpp"
#include "kernels/aligned.h"
#include "kernels/kernels.h"
#include "kernels/tune.h"
#include "pipeline/kernel_tuning.h"

namespace fs = std::filesystem;
using namespace docling::kernels;

namespace {

// Restores the process-wide kernel settings a test changes.
struct SettingsGuard {
  KernelSettings saved = current_settings();
  ~SettingsGuard() { configure(saved); }
};

struct PanelCase {
  int M, N, K;
  std::vector<float> x;
  std::vector<uint16_t> panels;
  BLayout layout = BLayout::Panel;
};

PanelCase make_case(int M, int N, int K, unsigned seed, BLayout layout = BLayout::Panel) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  PanelCase c{M, N, K, std::vector<float>(size_t(M) * K), {}};
  for (float& v : c.x) v = u(rng);
  std::vector<uint16_t> w(size_t(N) * K);
  for (uint16_t& v : w) v = docling::f32_to_bf16(u(rng));
  c.layout = layout;
  c.panels.resize(size_t(panel_elems(N, K, layout)));
  to_panels(w.data(), N, K, K, c.panels.data(), layout);
  return c;
}

// y is cache-line aligned, so that with stream_outputs the rows that start a line (every
// fourth at N = 100) are streamed and the others stored.
aligned_vector<float> product(const PanelCase& c, bool parallel = true) {
  aligned_vector<float> y(size_t(c.M) * c.N, -7.0f);
  Gemm g;
  g.M = c.M; g.N = c.N; g.K = c.K; g.x = c.x.data(); g.ldx = c.K;
  g.b = c.panels.data(); g.btype = BType::BF16; g.layout = c.layout; g.ldb = c.K;
  g.y = y.data(); g.ldy = c.N;
  gemm(g, parallel);
  return y;
}

// Products of M rows against each case's panels into out[i] (filled with 0.25 first): the first
// with a bias, the second accumulating.
std::vector<Gemm> panel_products(const std::vector<PanelCase>& cases, int M, const float* bias,
                                 std::vector<std::vector<float>>& out) {
  std::vector<Gemm> list;
  if (out.size() < cases.size()) out.resize(cases.size());
  for (size_t i = 0; i < cases.size(); ++i) {
    const PanelCase& c = cases[i];
    out[i].assign(size_t(M) * c.N, 0.25f);
    Gemm g;
    g.M = M; g.N = c.N; g.K = c.K; g.x = c.x.data(); g.ldx = c.K;
    g.b = c.panels.data(); g.btype = BType::BF16; g.layout = c.layout; g.ldb = c.K;
    g.y = out[i].data(); g.ldy = c.N;
    g.bias = i == 0 ? bias : nullptr;
    g.accumulate = i == 1;
    list.push_back(g);
  }
  return list;
}

fs::path temp_dir(const std::string& name) {
  fs::path d = fs::temp_directory_path() / ("docling-decode-params-" + name + "-" + std::to_string(getpid()));
  fs::remove_all(d);
  return d;
}

TuneOptions small_measurement() {
  TuneOptions o;
  o.weight_mib = 2;
  o.repeats = 1;
  return o;
}

}  // namespace

TEST(DecodeParams, EveryValidChoiceGivesTheSameProducts) {
  SettingsGuard guard;
  // N not a multiple of the panel width, K not a multiple of any turn_k tried; both panel
  // layouts, at the AVX2 level and the best this CPU has.
  for (Isa level : {Isa::Avx2, detected_isa()})
  for (BLayout layout : {BLayout::Panel, BLayout::PanelPairs})
  for (int M : {1, 2, 3, 4, 5, 6, 7, 8, 11, 16}) {
    const PanelCase c = make_case(M, 100, 301, 40u + unsigned(M), layout);
    KernelSettings s = guard.saved;
    s.max_isa = level;
    s.decode = DecodeParams{};
    configure(s);
    const aligned_vector<float> want = product(c);
    // The default is right to begin with (against the reference in double).
    std::vector<float> ref(size_t(M) * c.N);
    Gemm g;
    g.M = M; g.N = c.N; g.K = c.K; g.x = c.x.data(); g.ldx = c.K;
    g.b = c.panels.data(); g.btype = BType::BF16; g.layout = c.layout; g.ldb = c.K;
    g.y = ref.data(); g.ldy = c.N;
    gemm_reference(g);
    for (size_t i = 0; i < ref.size(); ++i) ASSERT_NEAR(want[i], ref[i], 1e-4f * (1.0f + std::abs(ref[i]))) << "M=" << M;
    for (int prefetch : {0, 32, 1024})
      for (int single = 1; single <= 6; ++single)
        for (int turn = 2; turn <= 6; ++turn)
          for (int tk : {8, 33, 1024})
            for (int stream : {0, 1}) {
              DecodeParams d{prefetch, single, turn, tk, stream};
              s.decode = d;
              configure(s);
              ASSERT_EQ(product(c), want) << isa_name(level) << (layout == BLayout::PanelPairs ? " pairs" : "")
                                          << " M=" << M << " prefetch " << prefetch << " single " << single
                                          << " turn " << turn << " turn_k " << tk << " stream " << stream;
            }
  }
}

TEST(DecodeParams, OutOfRangeValuesAreRefusedAndChangeNothing) {
  SettingsGuard guard;
  KernelSettings s = guard.saved;
  for (DecodeParams bad : {DecodeParams{-1, 6, 4, 32}, DecodeParams{64, 0, 4, 32}, DecodeParams{64, 7, 4, 32},
                           DecodeParams{64, 6, 1, 32}, DecodeParams{64, 6, 7, 32}, DecodeParams{64, 6, 4, 4},
                           DecodeParams{64, 6, 4, 2048}, DecodeParams{64, 6, 4, 32, 2},
                           DecodeParams{64, 6, 4, 32, -1}}) {
    EXPECT_FALSE(decode_params_error(bad).empty());
    s.decode = bad;
    EXPECT_THROW(configure(s), std::invalid_argument);
    EXPECT_EQ(*current_settings().decode, *guard.saved.decode);
  }
  EXPECT_TRUE(decode_params_error(DecodeParams{}).empty());
}

TEST(DecodeParams, TableRowsByVendorFamilyAndModel) {
  std::string row;
  CpuId zen4;
  zen4.amd = true, zen4.family = 25, zen4.model = 0x11;
  const DecodeParams z4 = decode_params_for_cpu(zen4, &row);
  EXPECT_EQ(row, "AMD Zen 4");
  EXPECT_TRUE(decode_params_error(z4).empty());
  CpuId zen3 = zen4;
  zen3.model = 0x01;
  decode_params_for_cpu(zen3, &row);
  EXPECT_EQ(row, "AMD Zen 3");
  CpuId zen2 = zen4;
  zen2.family = 23, zen2.model = 0x31;
  decode_params_for_cpu(zen2, &row);
  EXPECT_EQ(row, "generic");
  CpuId intel;
  intel.intel = true, intel.family = 6, intel.model = 0x8f;
  DecodeParams streamed;
  streamed.stream_outputs = 1;
  EXPECT_EQ(decode_params_for_cpu(intel, &row), streamed);
  EXPECT_EQ(row, "Intel");
  EXPECT_EQ(z4.stream_outputs, 0);
  CpuId other;
  decode_params_for_cpu(other, &row);
  EXPECT_EQ(row, "generic");
  // The settings' default is this CPU's row.
  SettingsGuard guard;
  KernelSettings s = guard.saved;
  s.decode.reset();
  configure(s);
  EXPECT_EQ(*current_settings().decode, decode_params_for_cpu(cpu_id()));
}

TEST(DecodeParams, CpuIdNamesThisCpu) {
#if defined(__x86_64__)
  const CpuId id = cpu_id();
  EXPECT_FALSE(id.brand.empty());
  EXPECT_GT(id.family, 0);
  EXPECT_TRUE(id.brand.front() != ' ' && id.brand.back() != ' ');
#endif
}

TEST(DecodeParams, MeasurementGivesAValidChoiceAndRestoresTheSettings) {
  SettingsGuard guard;
  KernelSettings s = guard.saved;
  s.decode = DecodeParams{32, 5, 3, 64};  // not the start: the settings must come back to this
  TuneOptions o = small_measurement();
  for (Isa level : {Isa::Avx2, Isa::Avx512}) {
    if (level > detected_isa()) continue;
    s.max_isa = level;
    configure(s);
    const TuneResult r = tune_decode_params(o);
    EXPECT_TRUE(decode_params_error(r.best).empty());
    EXPECT_EQ(r.trials.front().params, o.start);
    EXPECT_GT(r.start_seconds, 0);
    EXPECT_LE(r.best_seconds, r.start_seconds);
    EXPECT_EQ(*current_settings().decode, *s.decode);
    if (level == Isa::Avx2) {
      EXPECT_GT(r.trials.size(), 10u);
      continue;
    }
    // The AVX-512 kernels keep every row in one pass: only the prefetch distance is tried.
    EXPECT_EQ(r.trials.size(), 5u);
    for (const TuneTrial& t : r.trials) {
      DecodeParams same = t.params;
      same.prefetch_rows = o.start.prefetch_rows;
      EXPECT_EQ(same, o.start);
    }
  }
  o.batches = {0};
  EXPECT_THROW(tune_decode_params(o), std::invalid_argument);
  o.batches = {8};
  o.shapes.clear();
  EXPECT_THROW(tune_decode_params(o), std::invalid_argument);
}

TEST(DecodeParams, CacheFileIsWrittenReusedAndReplacedWhenNotOurs) {
  SettingsGuard guard;
  const fs::path dir = temp_dir("cache") / "nested";
  const CpuId cpu = cpu_id();
  const fs::path file = dir / docling::pipeline::tuning_file_name(cpu, 2);
  EXPECT_EQ(file.filename().string().find(' '), std::string::npos);

  auto first = docling::pipeline::cached_decode_params(dir, 2, small_measurement());
  EXPECT_EQ(first.note.rfind("measured", 0), 0u) << first.note;
  EXPECT_TRUE(first.warning.empty());
  ASSERT_TRUE(fs::is_regular_file(file));
  auto again = docling::pipeline::cached_decode_params(dir, 2, small_measurement());
  EXPECT_EQ(again.note, "from " + file.string());
  EXPECT_EQ(again.params, first.params);

  // Another thread count is another file.
  auto four = docling::pipeline::cached_decode_params(dir, 4, small_measurement());
  EXPECT_EQ(four.note.rfind("measured", 0), 0u);

  // Values out of range, another CPU's file, another kernel level's, older formats' files
  // (format 1's prefetch distance meant L1, format 2's panels were not in pairs, format 3 had no
  // stream_outputs), or not JSON:
  // measured again and replaced.
  const std::string level = isa_name(active_isa()), other = level == "avx2" ? "scalar" : "avx2";
  auto text_of = [&](int format, const std::string& brand, const std::string& isa, int single_pass_rows) {
    return R"({"format":)" + std::to_string(format) + R"(,"cpu":")" + brand + R"(","isa":")" + isa +
           R"(","decode":{"prefetch_rows":64,"single_pass_rows":)" + std::to_string(single_pass_rows) +
           R"(,"turn_rows":4,"turn_k":32)" + (format >= 4 ? R"(,"stream_outputs":1)" : "") + "}}";
  };
  for (const std::string& text :
       {text_of(4, cpu.brand, level, 9), text_of(4, "Some Other CPU", level, 6), text_of(4, cpu.brand, other, 6),
        text_of(1, cpu.brand, level, 6), text_of(2, cpu.brand, level, 6), text_of(3, cpu.brand, level, 6),
        std::string("not json")}) {
    std::ofstream(file) << text;
    auto redo = docling::pipeline::cached_decode_params(dir, 2, small_measurement());
    EXPECT_EQ(redo.note.rfind("measured", 0), 0u) << text;
    EXPECT_EQ(docling::pipeline::cached_decode_params(dir, 2, small_measurement()).note, "from " + file.string());
  }
  // The same file with valid values for this CPU and level is taken as it is.
  std::ofstream(file) << text_of(4, cpu.brand, level, 5);
  auto kept = docling::pipeline::cached_decode_params(dir, 2, small_measurement());
  EXPECT_EQ(kept.note, "from " + file.string());
  EXPECT_EQ(kept.params.single_pass_rows, 5);
  EXPECT_EQ(kept.params.prefetch_rows, 64);
  EXPECT_EQ(kept.params.stream_outputs, 1);

  // A folder that cannot be made: the measurement is still used, with a warning.
  const fs::path blocker = temp_dir("blocker");
  std::ofstream(blocker) << "a file where the folder should be";
  auto unwritable = docling::pipeline::cached_decode_params(blocker / "kernels", 2, small_measurement());
  EXPECT_TRUE(decode_params_error(unwritable.params).empty());
  EXPECT_NE(unwritable.warning.find(blocker.string()), std::string::npos) << unwritable.warning;
  fs::remove_all(dir.parent_path());
  fs::remove(blocker);
}

// The parameters are measured with the active level's kernels: a run held to a lower level
// (--isa) measures and keeps its own.
TEST(DecodeParams, AnotherKernelLevelIsAnotherFile) {
  if (active_isa() == Isa::Scalar) GTEST_SKIP() << "one kernel level only";
  SettingsGuard guard;
  const fs::path dir = temp_dir("levels");
  const Isa best = active_isa();
  EXPECT_EQ(docling::pipeline::cached_decode_params(dir, 2, small_measurement()).note.rfind("measured", 0), 0u);
  KernelSettings lower = current_settings();
  lower.max_isa = best == Isa::Avx512 ? Isa::Avx2 : Isa::Scalar;
  configure(lower);
  const fs::path lower_file = dir / docling::pipeline::tuning_file_name(cpu_id(), 2);
  EXPECT_NE(lower_file, dir / docling::pipeline::tuning_file_name(cpu_id(), 2, best));
  auto at_lower = docling::pipeline::cached_decode_params(dir, 2, small_measurement());
  EXPECT_EQ(at_lower.note.rfind("measured", 0), 0u) << at_lower.note;
  EXPECT_TRUE(fs::is_regular_file(lower_file));
  EXPECT_EQ(docling::pipeline::cached_decode_params(dir, 2, small_measurement()).note, "from " + lower_file.string());
  fs::remove_all(dir);
}

TEST(DecodeParams, EngineWithATuningFolderKeepsTheMeasurement) {
  SettingsGuard guard;
  const fs::path dir = temp_dir("engine");
  docling::EngineOptions o = docling::engine_defaults();
  o.model_dir = (fs::path(DOCLING_TEST_DATA) / "oracle" / "tiny-idefics3").string();
  o.threads = 2;
  o.kernel_tuning_dir = dir.string();
  std::vector<std::string> lines;
  o.log = [&](docling::LogLevel, const std::string& m) { lines.push_back(m); };
  { docling::Engine e(o); }
  const fs::path file = dir / docling::pipeline::tuning_file_name(cpu_id(), 2);
  EXPECT_TRUE(fs::is_regular_file(file));
  bool noted = false;
  for (const std::string& l : lines) noted = noted || l.rfind("decode kernels: measured", 0) == 0;
  EXPECT_TRUE(noted);
  lines.clear();
  { docling::Engine e(o); }
  noted = false;
  for (const std::string& l : lines) noted = noted || l == "decode kernels: from " + file.string();
  EXPECT_TRUE(noted);
  fs::remove_all(dir);
}

// Products run as one group give what each gives alone, bit for bit: panel and NK layouts, a
// bias, accumulation, an empty product, and a product too big for the shared loop (the
// group then runs one after another).
TEST(GemmGroup, SameResultsAsOneAtATime) {
  for (int M : {1, 3, 8, 16, 20}) {
    std::vector<PanelCase> cases = {make_case(M, 576, 64, 1), make_case(M, 192, 64, 2), make_case(M, 40, 64, 3)};
    std::mt19937 rng(9);
    std::uniform_real_distribution<float> u(-1.0f, 1.0f);
    std::vector<uint16_t> nk(size_t(70) * 64);
    for (uint16_t& v : nk) v = docling::f32_to_bf16(u(rng));
    std::vector<float> bias(576);
    for (float& v : bias) v = u(rng);
    std::vector<std::vector<float>> alone(5), together(5);
    auto gemms = [&](std::vector<std::vector<float>>& out) {
      std::vector<Gemm> list = panel_products(cases, M, bias.data(), out);
      out[3].assign(size_t(M) * 70, 0.0f);
      Gemm g;
      g.M = M; g.N = 70; g.K = 64; g.x = cases[0].x.data(); g.ldx = 64;
      g.b = nk.data(); g.btype = BType::BF16; g.layout = BLayout::NK; g.ldb = 64; g.y = out[3].data(); g.ldy = 70;
      list.push_back(g);
      Gemm empty = g;
      empty.N = 0;
      list.push_back(empty);
      return list;
    };
    for (const Gemm& g : gemms(alone)) gemm(g);
    const std::vector<Gemm> list = gemms(together);
    gemm_group(list.data(), int(list.size()));
    for (int i = 0; i < 4; ++i) EXPECT_EQ(together[i], alone[i]) << "M=" << M << " product " << i;
  }
  Gemm bad;
  bad.M = 2; bad.N = 16; bad.K = 16; bad.btype = BType::F32; bad.layout = BLayout::Panel;
  EXPECT_THROW(gemm_group(&bad, 1), std::invalid_argument);
}

// A decode step's panel products are split into one share of column pairs per thread: any
// thread count (more threads than pairs too, some then get none), both panel layouts, a group
// of products with a bias, accumulation and a width that is not a whole pair, give the serial
// results bit for bit.
TEST(GemmGroup, SharesForAnyThreadCountGiveTheSerialResults) {
  SettingsGuard guard;
  for (BLayout layout : {BLayout::Panel, BLayout::PanelPairs})
    for (int M : {1, 2, 8}) {
      const std::vector<PanelCase> cases = {make_case(M, 600, 96, 5, layout), make_case(M, 40, 96, 6, layout),
                                            make_case(M, 100, 96, 7, layout)};
      std::vector<float> bias(600, 0.5f);
      auto products = [&](std::vector<std::vector<float>>& out) { return panel_products(cases, M, bias.data(), out); };
      std::vector<std::vector<float>> serial;
      for (const Gemm& g : products(serial)) gemm(g, false);
      for (int threads : {2, 3, 5, 8, 24}) {
        std::vector<std::vector<float>> alone, together;
        tbb::task_arena arena(threads);
        arena.execute([&] {
          for (const Gemm& g : products(alone)) gemm(g);
          const std::vector<Gemm> list = products(together);
          gemm_group(list.data(), int(list.size()));
        });
        for (size_t i = 0; i < cases.size(); ++i) {
          EXPECT_EQ(alone[i], serial[i]) << threads << " threads, M=" << M << " product " << i;
          EXPECT_EQ(together[i], serial[i]) << threads << " threads, M=" << M << " product " << i << " (group)";
        }
      }
    }
}

TEST(LargeAllocation, AlignsLargeBlocksToHugePages) {
  void* big = allocate_large(size_t(5) << 20);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(big) % (size_t(2) << 20), 0u);
  static_cast<char*>(big)[(size_t(5) << 20) - 1] = 1;  // the whole size is usable
  free_large(big, size_t(5) << 20);
  void* small = allocate_large(100);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(small) % 64, 0u);
  free_large(small, 100);
  large_vector<float> v(size_t(1) << 20, 1.5f);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(v.data()) % (size_t(2) << 20), 0u);
  EXPECT_EQ(v.back(), 1.5f);
  large_ptr<char> p = make_large<char>(size_t(3) << 20);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(p.get()) % (size_t(2) << 20), 0u);
}
