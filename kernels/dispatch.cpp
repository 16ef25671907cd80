// Chooses the kernels: detects the CPU once, builds one table of kernels per level
// (detail::KernelTable: scalar.cpp, avx2.cpp, avx512.cpp, avx512_bf16.cpp, whose bf16 products
// hand over to amx.cpp where the CPU has AMX) and keeps a pointer
// to the one in use; set_isa and the settings swap that pointer. The public entry points below
// do the work every level shares (argument checks, the split into tasks) and call the table.
#include <algorithm>
#include <atomic>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include <tbb/task_arena.h>

#include "kernels/attention.h"
#include "kernels/common.h"
#include "kernels/int8_gemm.h"

namespace docling::kernels {

namespace {

using detail::KernelTable;

Isa detect() {
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512vl"))
    return Isa::Avx512;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return Isa::Avx2;
  return Isa::Scalar;
}

bool cpu_avx_vnni() {
  static const bool cpu = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avxvnni") != 0;
  }();
  return cpu;
}

bool cpu_bf16() {
  static const bool cpu = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512bf16") != 0;
  }();
  return cpu;
}

// Every table, [level][int8 activations][bf16 dot], built once (the options change the
// Avx512 level only).
struct Tables {
  KernelTable t[3][2][2];
};

const Tables& tables() {
  static const Tables all = [] {
    Tables a;
    for (int act = 0; act < 2; ++act)
      for (int bf = 0; bf < 2; ++bf) {
        a.t[int(Isa::Scalar)][act][bf] = detail::scalar_kernels();
        a.t[int(Isa::Avx2)][act][bf] = detail::avx2_kernels();
        a.t[int(Isa::Avx512)][act][bf] = bf ? detail::avx512_bf16_kernels(act) : detail::avx512_kernels(act);
      }
    return a;
  }();
  return all;
}

// What was asked for; the table in use follows from it and the CPU.
std::mutex g_mu;  // serializes changes
std::atomic<Isa> g_isa{Isa::Scalar};
std::atomic<bool> g_int8_act{false}, g_bf16_dot{false}, g_amx{true}, g_avx_vnni{true};
std::atomic<const KernelTable*> g_table{nullptr};
std::once_flag g_init;
// The decode parameters, field by field: kernels read them while another thread may (wrongly)
// configure; each value is then one or the other, both valid.
std::atomic<int> g_prefetch_rows{DecodeParams{}.prefetch_rows}, g_single_pass_rows{DecodeParams{}.single_pass_rows},
    g_turn_rows{DecodeParams{}.turn_rows}, g_turn_k{DecodeParams{}.turn_k},
    g_stream_outputs{DecodeParams{}.stream_outputs};

void select_table() {  // under g_mu
  const Isa isa = g_isa.load();
  const bool act = g_int8_act.load() && detail::cpu_has_vnni() && isa == Isa::Avx512;
  const bool bf = g_bf16_dot.load() && cpu_bf16() && isa == Isa::Avx512;
  g_table.store(&tables().t[int(isa)][act][bf], std::memory_order_release);
}

void apply(const KernelSettings& s) {  // under g_mu
  const DecodeParams d = s.decode ? *s.decode : decode_params_for_cpu(cpu_id());
  if (std::string e = decode_params_error(d); !e.empty()) throw std::invalid_argument("kernel settings: " + e);
  g_isa.store(std::min(s.max_isa, detect()));
  g_int8_act.store(s.int8_activations);
  g_bf16_dot.store(s.bf16_dot);
  g_amx.store(s.amx);
  g_avx_vnni.store(s.avx_vnni);
  g_prefetch_rows.store(d.prefetch_rows);
  g_single_pass_rows.store(d.single_pass_rows);
  g_turn_rows.store(d.turn_rows);
  g_turn_k.store(d.turn_k);
  g_stream_outputs.store(d.stream_outputs);
  select_table();
}

// The defaults, on first use (unless configure came first).
void ensure_init() {
  std::call_once(g_init, [] {
    std::lock_guard<std::mutex> lock(g_mu);
    if (!g_table.load()) apply(KernelSettings{});
  });
}

}  // namespace

namespace detail {

bool cpu_has_vnni() {
  static const bool cpu = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512vnni") != 0;
  }();
  return cpu;
}

const KernelTable& active_kernels() {
  const KernelTable* t = g_table.load(std::memory_order_acquire);
  if (!t) {
    ensure_init();
    t = g_table.load(std::memory_order_acquire);
  }
  return *t;
}

bool avx_vnni_enabled() { return cpu_avx_vnni() && (ensure_init(), g_avx_vnni.load(std::memory_order_relaxed)); }

DecodeParams decode_params() {
  ensure_init();
  DecodeParams d;
  d.prefetch_rows = g_prefetch_rows.load(std::memory_order_relaxed);
  d.single_pass_rows = g_single_pass_rows.load(std::memory_order_relaxed);
  d.turn_rows = g_turn_rows.load(std::memory_order_relaxed);
  d.turn_k = g_turn_k.load(std::memory_order_relaxed);
  d.stream_outputs = g_stream_outputs.load(std::memory_order_relaxed);
  return d;
}

}  // namespace detail

using detail::active_kernels;

std::string decode_params_error(const DecodeParams& p) {
  auto out = [](const char* name, int v, int lo, int hi) {
    return v < lo || v > hi ? std::string("decode ") + name + " = " + std::to_string(v) + " is outside [" +
                                  std::to_string(lo) + ", " + std::to_string(hi) + "]"
                            : std::string();
  };
  for (std::string e : {out("prefetch_rows", p.prefetch_rows, 0, 1024), out("single_pass_rows", p.single_pass_rows, 1, 6),
                        out("turn_rows", p.turn_rows, 2, 6), out("turn_k", p.turn_k, 8, 1024),
                        out("stream_outputs", p.stream_outputs, 0, 1)})
    if (!e.empty()) return e;
  return {};
}

// --- settings ------------------------------------------------------------------------------

void configure(const KernelSettings& s) {
  std::lock_guard<std::mutex> lock(g_mu);
  apply(s);
}

KernelSettings current_settings() {
  ensure_init();
  KernelSettings s;
  s.max_isa = g_isa.load();
  s.int8_activations = g_int8_act.load();
  s.bf16_dot = g_bf16_dot.load();
  s.amx = g_amx.load();
  s.avx_vnni = g_avx_vnni.load();
  s.decode = detail::decode_params();
  return s;
}

Isa detected_isa() { return detect(); }

BLayout preferred_panel_layout() { return active_isa() == Isa::Avx512 ? BLayout::PanelPairs : BLayout::Panel; }
Isa active_isa() { return active_kernels().isa; }

void set_isa(Isa isa) {
  if (isa > detect())
    throw std::runtime_error(std::string("kernels: this CPU does not support ") + isa_name(isa));
  ensure_init();
  std::lock_guard<std::mutex> lock(g_mu);
  g_isa.store(isa);
  select_table();
}

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::Scalar: return "scalar";
    case Isa::Avx2: return "avx2";
    case Isa::Avx512: return "avx512";
  }
  return "?";
}

bool has_avx512_vnni() { return detail::cpu_has_vnni() && active_isa() == Isa::Avx512; }
bool int8_activations() { return has_avx512_vnni() && (ensure_init(), g_int8_act.load(std::memory_order_relaxed)); }

void set_int8_activations(bool on) {
  ensure_init();
  std::lock_guard<std::mutex> lock(g_mu);
  g_int8_act.store(on);
  select_table();
}

bool has_avx512_bf16() { return cpu_bf16() && active_isa() == Isa::Avx512; }
bool has_amx_bf16() {
  return has_avx512_bf16() && (ensure_init(), g_amx.load(std::memory_order_relaxed)) && detail::amx_bf16_usable();
}

void set_amx(bool on) {
  ensure_init();
  std::lock_guard<std::mutex> lock(g_mu);
  g_amx.store(on);
}

bool i8_uses_vnni() { return active_kernels().gemm_i8 == detail::gemm_i8_vnni; }
bool i8_uses_avx_vnni() { return active_kernels().gemm_i8 == detail::gemm_i8_avx2 && detail::avx_vnni_enabled(); }
bool bf16_dot() { return has_avx512_bf16() && (ensure_init(), g_bf16_dot.load(std::memory_order_relaxed)); }

void set_bf16_dot(bool on) {
  ensure_init();
  std::lock_guard<std::mutex> lock(g_mu);
  g_bf16_dot.store(on);
  select_table();
}

// --- entry points ------------------------------------------------------------------------

using namespace detail;

namespace {

void check_gemm(const Gemm& g) {
  if (g.btype == BType::I8 &&
      (g.layout != BLayout::NK || !g.bscale || (g.group > 0 && g.group < g.K && g.group % 8 != 0)))
    throw std::invalid_argument("gemm: int8 B needs the NK layout, scales, and a group that is a multiple of 8");
  if (is_panel(g.layout) && g.btype != BType::BF16)
    throw std::invalid_argument("gemm: the panel layout holds BF16 only");
  if (g.xtype == XType::I8 && (g.btype != BType::I8 || group_of(g) != g.K))
    throw std::invalid_argument("gemm: int8 activations need int8 B with one scale per output channel");
  if (g.gelu && g.accumulate) throw std::invalid_argument("gemm: GELU of an accumulated output is not defined");
}

// Gemm::gelu where the product's kernel does not apply it: the product, then gelu_tanh row by row.
void gemm_then_gelu(const Gemm& g, bool parallel) {
  Gemm plain = g;
  plain.gelu = false;
  gemm(plain, parallel);
  const auto gelu_row = [&](int m) { active_kernels().gelu_tanh(g.y + int64_t(m) * g.ldy, g.N); };
  if (parallel) {
    for_rows(g.M, g.N, gelu_row);
  } else {
    for (int m = 0; m < g.M; ++m) gelu_row(m);
  }
}

// Whether g runs as the small-M products (columns split in chunks, each chunk all rows) for
// certain, as gemm() below takes it: f32 activations, or bf16 ones against panels.
bool small_m(const Gemm& g) {
  return g.M > 0 && g.N > 0 && g.K > 0 && g.M <= kSmallM &&
         (g.xtype == XType::F32 || (g.xtype == XType::BF16 && is_panel(g.layout)));
}

// One small-M product run by column chunks: its kernel, or for bf16 activations against panels
// on AVX512-BF16, x already rounded to bf16 pairs (once for all its chunks).
struct SmallM {
  const Gemm* g = nullptr;
  void (*gemv)(const Gemm& g, int n0, int n1) = nullptr;
  const uint32_t* pairs = nullptr;
  int chunk = 0;  // columns per chunk where the product runs by chunks (serially, or other
                  // layouts in parallel); in parallel, panel products run by shares (run_shares)
  int chunks = 0;  // none for an empty product

  void run(int c) const { run_columns(c * chunk, std::min(g->N, (c + 1) * chunk)); }
  void run_columns(int n0, int n1) const {
    if (pairs) gemv_panel_avx512_bf16(*g, pairs, n0, n1);
    else gemv(*g, n0, n1);
  }
};

// Panel products (a decode step's, against the decoder's weights) shared by `threads`: share t
// of each product, the same number of 32-column pairs for every thread, is one contiguous range
// of its matrix. Chunks of a pair taken as TBB splits the loop left one thread with 10 of 18
// pairs and the other with 8 (the products wait for the slower), and every range a thread
// starts is a new stream from memory: batch-1 products 4-5% slower from memory.
void run_shares(const SmallM* jobs, int n, int threads) {
  constexpr int kUnit = 2 * kPanel;
  tbb::parallel_for(
      tbb::blocked_range<int>(0, threads, 1),
      [&](const tbb::blocked_range<int>& r) {
        for (int t = r.begin(); t < r.end(); ++t)
          for (int i = 0; i < n; ++i) {
            if (!jobs[i].chunks) continue;
            const int units = (jobs[i].g->N + kUnit - 1) / kUnit, u0 = units * t / threads, u1 = units * (t + 1) / threads;
            if (u0 < u1) jobs[i].run_columns(u0 * kUnit, std::min(jobs[i].g->N, u1 * kUnit));
          }
      },
      tbb::static_partitioner());
}

constexpr int kGroupMost = 8;  // products per shared loop (a decoder layer's groups have 2 or 3)

// Products [0, n) (n <= kGroupMost, each small_m or empty) as one loop over all their chunks.
void run_small_m(const Gemm* list, int n, bool parallel) {
  const KernelTable& t = active_kernels();
  const bool native_bf16 = has_avx512_bf16();
  auto bf16_pairs = [&](const Gemm& g) { return native_bf16 && g.xtype == XType::BF16 && is_panel(g.layout); };
  size_t words = 0;
  for (int i = 0; i < n; ++i)
    if (small_m(list[i]) && bf16_pairs(list[i])) words += size_t(list[i].M) * size_t((list[i].K + 1) / 2);
  thread_local ThreadScratch<uint32_t> tls;  // held while the chunks run: they read the pairs
  ThreadScratch<uint32_t> own;
  ScratchHold<uint32_t> hold(tls, own);
  uint32_t* next = words ? hold.get(words) : nullptr;
  SmallM jobs[kGroupMost];
  int first[kGroupMost + 1] = {0};  // product i owns chunks [first[i], first[i + 1])
  for (int i = 0; i < n; ++i) {
    const Gemm& g = list[i];
    SmallM& j = jobs[i];
    j.g = &g;
    first[i + 1] = first[i];
    if (!small_m(g)) continue;
    j.chunk = is_panel(g.layout) && g.M >= 3 ? 2 * kPanel : kGemvChunk;
    j.chunks = (g.N + j.chunk - 1) / j.chunk;
    first[i + 1] += j.chunks;
    if (bf16_pairs(g)) {
      bf16_pairs_avx512(g, next);
      j.pairs = next;
      next += size_t(g.M) * size_t((g.K + 1) / 2);
    } else {
      j.gemv = g.layout == BLayout::NK ? t.gemv_nk : is_panel(g.layout) ? t.gemv_panel : t.gemv_kn;
    }
  }
  if (!parallel || first[n] <= 1) {
    for (int i = 0; i < n; ++i)
      for (int c = 0; c < jobs[i].chunks; ++c) jobs[i].run(c);
    return;
  }
  bool panels = true;
  for (int i = 0; i < n; ++i) panels = panels && (!jobs[i].chunks || is_panel(list[i].layout));
  if (const int threads = tbb::this_task_arena::max_concurrency(); panels && threads > 1) {
    run_shares(jobs, n, threads);
    return;
  }
  tbb::parallel_for(tbb::blocked_range<int>(0, first[n]), [&](const tbb::blocked_range<int>& r) {
    int i = int(std::upper_bound(first, first + n + 1, r.begin()) - first) - 1;
    for (int c = r.begin(); c < r.end(); ++c) {
      while (c >= first[i + 1]) ++i;
      jobs[i].run(c - first[i]);
    }
  });
}

}  // namespace

void gemm(const Gemm& g, bool parallel) {
  if (g.M <= 0 || g.N <= 0) return;
  check_gemm(g);
  if (g.gelu) {  // bf16 activations on AMX tiles apply it as they write; the others after
    if (!(g.K > 0 && g.xtype == XType::BF16 && has_amx_bf16() && detail::gemm_amx_bf16(g, parallel)))
      gemm_then_gelu(g, parallel);
    return;
  }
  if (g.K <= 0) {  // empty sum: y = bias (+ y)
    std::vector<float> zero(size_t(g.N), 0.0f);
    for (int m = 0; m < g.M; ++m) write_out(g, m, 0, g.N, zero.data());
    return;
  }
  const KernelTable& t = active_kernels();
  if (g.xtype == XType::I8) {
    t.gemm_i8(g, parallel);
    return;
  }
  if (g.xtype == XType::BF16 && gemm_avx512_bf16(g, parallel)) return;  // else as F32
  if (g.M <= kSmallM) {
    run_small_m(&g, 1, parallel);
    return;
  }
  if (has_amx_bf16() && gemm_amx_f32(g, parallel)) return;  // f32 x against PanelPairs (prefill)
  t.gemm_large(g, parallel);
}

void gemm_group(const Gemm* list, int n, bool parallel) {
  bool together = parallel;
  for (int i = 0; i < n; ++i) {
    if (list[i].M <= 0 || list[i].N <= 0) continue;
    check_gemm(list[i]);
    together = together && small_m(list[i]) && !list[i].gelu;
  }
  if (!together) {
    for (int i = 0; i < n; ++i) gemm(list[i], parallel);
    return;
  }
  for (int i0 = 0; i0 < n; i0 += kGroupMost) run_small_m(list + i0, std::min(n - i0, kGroupMost), parallel);
}

namespace {

// Kv head g's new rows of `a` (KvAttention::new_k) into the cache.
void store_new_rows(const KvAttention& a, int g) {
  const int64_t at = int64_t(g) * a.kv_stride * int64_t(kv_element_size(a.type)), col = int64_t(g) * a.head_dim;
  // k and v are the caller's writable cache (KvAttention::new_k says so).
  char* kh = static_cast<char*>(const_cast<void*>(a.k)) + at;
  char* vh = static_cast<char*>(const_cast<void*>(a.v)) + at;
  kv_store_head(a.type, a.head_dim, a.q_pos0, a.n_q, a.new_k + col, a.new_v + col, a.ld_new, kh, vh);
}

// Whether each kv head of `a` is one task, which then writes the head's new rows itself.
bool one_task_per_head(const KvAttention& a) { return tasks_of(a) == a.kv_heads; }

}  // namespace

void kv_attention(const KvAttention* list, int n, bool parallel) {
  int total = 0;
  for (int i = 0; i < n; ++i) {
    const KvAttention& a = list[i];
    if (a.heads <= 0 || a.kv_heads <= 0 || a.heads % a.kv_heads || a.head_dim % 16)
      throw std::invalid_argument("kv_attention: heads must be a multiple of kv_heads, head_dim of 16");
    if (a.causal && a.n_kv != a.q_pos0 + a.n_q) throw std::invalid_argument("kv_attention: n_kv must be q_pos0 + n_q");
    if (a.new_k && (!a.causal || !a.new_v || a.ld_new < a.kv_heads * a.head_dim))
      throw std::invalid_argument("kv_attention: new K/V rows need a causal attention, both K and V and a row stride");
    total += tasks_of(a);
  }
  // A head split over several tasks (a prompt's rows) has all its rows stored before any task reads.
  for (int i = 0; i < n; ++i)
    if (list[i].new_k && !one_task_per_head(list[i]))
      for (int g = 0; g < list[i].kv_heads; ++g) store_new_rows(list[i], g);
  const KernelTable& t = active_kernels();
  // Task u: the attention it falls in, then kv head u % kv_heads of query block u / kv_heads.
  auto run = [&](int u) {
    int i = 0;
    while (u >= tasks_of(list[i])) u -= tasks_of(list[i++]);
    const KvAttention& a = list[i];
    const int rows = rows_per_task(a), g = u % a.kv_heads, b = u / a.kv_heads;
    const int i0 = b * rows, i1 = std::min(a.n_q, (b + 1) * rows);
    if (a.new_k && one_task_per_head(a)) store_new_rows(a, g);
    if (a.type == KvType::F32) t.attend_f32(a, g, i0, i1);
    else t.attend_f16(a, g, i0, i1);
  };
  run_tasks(total, parallel, run);
}

void f32_to_f16_row(const float* x, int n, uint16_t* out) { active_kernels().f32_to_f16_row(x, n, out); }

float online_softmax_row(float* s, int n, int bk, float scale, float& m, float& l, float* o, int hd) {
  return active_kernels().online_softmax_row(s, n, bk, scale, m, l, o, hd);
}

void gelu_tanh(float* x, int64_t n) {
  constexpr int64_t kChunk = 4096;
  const auto f = active_kernels().gelu_tanh;
  int chunks = int((n + kChunk - 1) / kChunk);
  for_rows(chunks, kChunk * 8, [&](int c) {
    int64_t b = c * kChunk, e = std::min(n, b + kChunk);
    f(x + b, e - b);
  });
}

void silu_mul(float* gate, const float* up, int64_t n) {
  constexpr int64_t kChunk = 4096;
  const auto f = active_kernels().silu_mul;
  int chunks = int((n + kChunk - 1) / kChunk);
  for_rows(chunks, kChunk * 8, [&](int c) {
    int64_t b = c * kChunk, e = std::min(n, b + kChunk);
    f(gate + b, up + b, e - b);
  });
}

void softmax(float* x, int n) {
  if (n <= 0) return;
  active_kernels().softmax(x, n);
}

}  // namespace docling::kernels
