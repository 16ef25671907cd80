// Compute kernels of the model: matrix products with BF16 or F32 "B" operands and f32
// activations/accumulation, attention, and the element-wise ops (norms, activations, RoPE).
//
// The instruction set is chosen at run time (AVX-512 when the CPU has it, else AVX2+FMA, else
// portable C): one table of kernels per level (kernels/dispatch.cpp), picked from the CPU and
// the settings below. The settings are process-wide by nature (one table serves every caller):
// set them once at start-up, before any kernel runs, or between runs (tests compare levels).
// This library reads no environment variables; a program maps its own options onto them.
// Large products are split across threads with TBB; `parallel = false` runs on the calling
// thread (for use inside an outer parallel loop).
//
// Takes: raw pointers and strides. Gives: results written into caller-owned buffers.
// Nothing here allocates per call except thread-local scratch that grows to its high-water mark.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "core/half.h"

namespace docling::kernels {

enum class Isa : uint8_t { Scalar, Avx2, Avx512 };

// Block sizes of the bf16 panel products with few rows (decoding: 1 to 16 rows against the
// decoder's weights), which are fitted to a CPU: how far ahead to prefetch and how to share
// one pass over B between rows depend on its memory latency and FMA throughput.
// decode_params_for_cpu() gives the table's entry for this CPU, tune_decode_params()
// (kernels/tune.h) measures. Any valid values give the same results (only the order of
// work changes, not the sums).
struct DecodeParams {
  int prefetch_rows = 256;   // software prefetch into L2, this many 32-byte panel rows (half lines)
                             // ahead, shared among the streams (panel pairs) one pass reads; 0: none
  // AVX2 only (the AVX-512 kernels keep up to 14 rows' sums in registers in one pass):
  int single_pass_rows = 6;  // up to this many rows (1..6) share one pass over B; more go in turns
  int turn_rows = 4;         // rows per turn (2..6); the sums wait in L1 between turns
  int turn_k = 32;           // values of k per turn (8..1024): one turn streams it, the others find it in L1
  // AVX-512 only: 1 writes the outputs of products with 4+ rows and no accumulation around the
  // caches (non-temporal stores of whole, line-aligned 32-column rows), so that they do not
  // compete with the weight stream for the core's cache misses; 0: plain stores.
  int stream_outputs = 0;
  bool operator==(const DecodeParams&) const = default;
};
// Empty when p is usable, else what is wrong with it.
std::string decode_params_error(const DecodeParams& p);

struct KernelSettings {
  Isa max_isa = Isa::Avx512;      // highest level to use (the CPU's best when it is lower)
  // INT8 weights with small M (decode) also quantize the activations to 8 bits per row and
  // use vpdpbusd (AVX512-VNNI only). Off by default: on a Sapphire Rapids core it was not
  // faster than the f32 path and doubles the logit error.
  bool int8_activations = false;
  bool bf16_dot = false;          // the AVX512-BF16 product path (see gemm_avx512_bf16)
  bool amx = true;                // AMX tiles where present (has_amx_bf16): that path's products, and
                                  // f32 prefill against the decoder's panels
  bool avx_vnni = true;           // the int8 products at the AVX2 level on AVX-VNNI (vpdpbusd, 256 bits)
                                  // where present: the same results, faster than vpmaddubsw
  std::optional<DecodeParams> decode;  // unset: decode_params_for_cpu()
};
// Applies the settings (the defaults: the CPU's best level, both options off, the table's
// decode parameters). Throws std::invalid_argument for decode parameters out of range.
void configure(const KernelSettings& s);
KernelSettings current_settings();  // `decode` set to the parameters in use

// The CPU: its brand string (e.g. "AMD EPYC 9R14 96-Core Processor") and x86 family/model
// as cpuid reports them (family includes the extended family: 25 for Zen 3 and Zen 4).
struct CpuId {
  std::string brand;
  int family = 0, model = 0, stepping = 0;
  bool amd = false, intel = false;
};
CpuId cpu_id();
// The decode parameters of the table for a CPU (by vendor, family and model; the generic
// entry for CPUs it does not list), and which table row was used.
DecodeParams decode_params_for_cpu(const CpuId& cpu, std::string* row = nullptr);

Isa detected_isa();          // best level this CPU supports
bool has_avx512_vnni();      // AVX512-VNNI (vpdpbusd) present and the active level is Avx512
bool int8_activations();     // enabled and the CPU can
void set_int8_activations(bool on);
Isa active_isa();            // level in use
void set_isa(Isa isa);       // exactly this level; throws std::runtime_error if the CPU lacks it
const char* isa_name(Isa isa);

enum class BType : uint8_t { F32, BF16, I8 };
// NK: B[n * ldb + k] (an nn.Linear weight [out, in]);  KN: B[k * ldb + n].
// Panel (BF16 only): B in panels of kPanel columns, [k][16] each, made once by to_panels
// (the decoder's weights): a decode step broadcasts x and streams B in order, with no
// transposes or horizontal sums, and prefill widens a panel without gathering. ldb = K.
// PanelPairs: the same panels stored in pairs, row by row: for each k, one 64-byte line holds
// row k of panel 2P and then row k of panel 2P + 1, so one AVX-512 load takes 32 columns and
// a pass over both panels reads one sequential stream. Panel suits AVX2, whose 16 registers
// hold the sums of one panel at a time (a pass over one panel of a pair would pull whole
// lines and use half); preferred_panel_layout() says which to make.
enum class BLayout : uint8_t { NK, KN, Panel, PanelPairs };
inline bool is_panel(BLayout l) { return l == BLayout::Panel || l == BLayout::PanelPairs; }
// The layout the kernels in use read fastest: PanelPairs at the Avx512 level, else Panel
// (either works at every level).
BLayout preferred_panel_layout();

constexpr int kPanel = 16;
// Within a panel row, 32-bit lane i holds column i in its low half and column i + 8 in its
// high half: one 32-byte load, a shift and a mask give both 8-column halves as f32.
inline int panel_slot(int j) { return j < 8 ? 2 * j : 2 * (j - 8) + 1; }
// Elements from row k of a panel to its row k + 1.
inline int panel_row_stride(BLayout l) { return l == BLayout::PanelPairs ? 2 * kPanel : kPanel; }
// Where row 0 of panel p starts.
inline int64_t panel_start(int p, int64_t ldb, BLayout l) {
  return l == BLayout::PanelPairs ? int64_t(p / 2) * ldb * 2 * kPanel + (p % 2) * kPanel : int64_t(p) * ldb * kPanel;
}
inline int64_t panel_index(int n, int k, int64_t ldb, BLayout l = BLayout::Panel) {
  return panel_start(n / kPanel, ldb, l) + int64_t(k) * panel_row_stride(l) + panel_slot(n % kPanel);
}
// Elements of the panel form of an [N, K] matrix (N rounded up to whole panels or pairs,
// zero-padded).
inline int64_t panel_elems(int N, int K, BLayout l = BLayout::Panel) {
  const int cols = panel_row_stride(l);  // the columns stored side by side
  return int64_t((N + cols - 1) / cols) * cols * K;
}
// w [N, K] (row stride ldw, BF16 NK) into out[panel_elems(N, K)].
void to_panels(const uint16_t* w, int N, int K, int64_t ldw, uint16_t* out, BLayout l = BLayout::Panel);

// How x enters one product (a per-call choice: the vision encoder's precision option, apart
// from the process-wide settings above).
//  F32:  as it is (the exact path).
//  BF16: rounded to bf16 (nearest even) and multiplied with vdpbf16ps where has_avx512_bf16()
//        (on AMX tiles instead where has_amx_bf16(), for B in the NK or KN layout):
//        for BF16 B in the NK or KN layout, and in the Panel layout with at most 16 rows
//        (decode steps; one f32 sum per output over all of K). Elsewhere (another CPU, a lower
//        level, other B, a Panel product of more rows) the product runs as F32.
//  I8:   each row quantized to int8 with its own scale, xs = max|x[m, :]| / 127, xq =
//        round(x * 127 / max) (nearest even) in [-127, 127]; integer products against I8 B with
//        one scale per output channel (group 0 or >= K; NK layout), int32 sums per block of
//        kI8Block k values, each block added as float(sum) * xs * bscale[n]. AVX512-VNNI
//        (vpdpbusd on xq + 128, less 128 * the block's column sums), AVX2 (vpmaddubsw on |xq|
//        and sign-applied weights, vpmaddwd) or portable loops: identical results at every level.
enum class XType : uint8_t { F32, BF16, I8 };
constexpr int kI8Block = 512;

// y[m, n] (+)= sum_k x[m, k] * B(k, n) + bias[n]
// I8 (NK layout only): B(k, n) = int8 b[n * ldb + k] * bscale[n * ceil(K / group) + k / group];
// group is a multiple of 8 or >= K (one scale per output channel).
struct Gemm {
  int M = 0, N = 0, K = 0;
  const float* x = nullptr;
  int64_t ldx = 0;
  const void* b = nullptr;  // float*, uint16_t* (bf16 bit patterns) or int8_t*
  BType btype = BType::BF16;
  BLayout layout = BLayout::NK;
  int64_t ldb = 0;
  const float* bias = nullptr;  // [N] or null
  float* y = nullptr;
  int64_t ldy = 0;
  bool accumulate = false;      // y += (x·B + bias) instead of y = ...
  bool gelu = false;            // y = gelu_tanh(x·B + bias), as gelu_tanh gives it (not with accumulate):
                                // in the output writes of AMX products, else a pass over y after them
  const float* bscale = nullptr;  // I8 only
  int group = 0;                  // I8 only: K values per scale (0 = K)
  XType xtype = XType::F32;       // see XType
};

void gemm(const Gemm& g, bool parallel = true);
// n products that do not depend on each other (e.g. q, k and v of one input), each with the
// results gemm() gives it. Small products with f32 activations (decode steps) share one
// parallel loop: a step of a batch then waits for the threads 4 times a layer instead of 7.
void gemm_group(const Gemm* list, int n, bool parallel = true);
// The AVX512-BF16 (vdpbf16ps) path for BF16 B and more than a few rows; gemm() takes it at the
// Avx512 level when bf16_dot(), and for a call with xtype BF16 whatever the setting. Returns
// false (doing nothing) where it does not apply or is off.
bool gemm_avx512_bf16(const Gemm& g, bool parallel);
bool has_avx512_bf16();      // AVX512-BF16 present and the active level is Avx512
// AMX-BF16 tiles (Intel Sapphire Rapids and later) run that path's products instead of
// vdpbf16ps, for B in the NK or KN layout (not panels), and the f32 products with more than
// 16 rows against PanelPairs (a prompt's prefill through the decoder's weights) at f32
// accuracy (x split into three bf16 parts): the CPU has them, the OS granted the tile state
// (Linux: asked for once per process), has_avx512_bf16() and KernelSettings::amx.
bool has_amx_bf16();
void set_amx(bool on);
// The path rounds x to bf16 (relative error up to 2^-8 per product), more than the f32
// oracle tolerances allow, and on an Emerald Rapids core vdpbf16ps does half the flops of
// f32 FMA (bench/README.md): off by default; KernelSettings::bf16_dot (or set_bf16_dot) turns it on.
bool bf16_dot();             // enabled and has_avx512_bf16()
void set_bf16_dot(bool on);
// The same blocked driver with a portable kernel of the same arithmetic, for tests on any CPU.
void gemm_bf16_emulated(const Gemm& g, bool parallel);
// Plain triple loop in double, for tests.
void gemm_reference(const Gemm& g);
// The XType::I8 quantization of one row (K values): writes xq[0..K), returns the scale xs.
float quantize_row_i8(const float* x, int K, int8_t* xq);
// Whether the I8 products use vpdpbusd (AVX512-VNNI present and the active level is Avx512).
bool i8_uses_vnni();
// Whether they use it on 256 bits instead (AVX-VNNI, KernelSettings::avx_vnni, no AVX512-VNNI
// kernel in use).
bool i8_uses_avx_vnni();

// y[M, N] = x[M, K] · W[N, K]^T + bias, W in bf16 (nn.Linear). Contiguous rows.
inline void linear(const float* x, int M, int K, const uint16_t* w, int N, const float* bias, float* y,
                   bool accumulate = false) {
  Gemm g;
  g.M = M; g.N = N; g.K = K; g.x = x; g.ldx = K; g.b = w; g.btype = BType::BF16;
  g.layout = BLayout::NK; g.ldb = K; g.bias = bias; g.y = y; g.ldy = N; g.accumulate = accumulate;
  gemm(g);
}


// Attention of query rows of one sequence against K/V in the cache layout below: the
// decoder's KV cache (decode steps, draft verification, prompt prefill) and the vision
// encoder's keys (non-causal, f32, laid out by kv_layout). Causal: query i is at position
// q_pos0 + i and sees keys j <= q_pos0 + i, and n_kv = q_pos0 + n_q keys are stored;
// otherwise every query sees all n_kv keys.
// KV head g of the cache: K at k + g * kv_stride as blocks of kKvKeys positions, each block
// [head_dim][kKvKeys] (transposed, so one load gives a dimension of 16 keys); V at
// v + g * kv_stride as [position][head_dim]. Query i, head h at q + i*ldq + h*head_dim, using
// kv head h / (heads / kv_heads); scores (q·k) * scale, softmax in f32; output row i, head h
// at out + i*ldo + h*head_dim.
// The cache is f16 (half the memory and per-step traffic of f32) or f32 (exact).
constexpr int kKvKeys = 16;
// Element of K (position p, dimension d) within a kv head's region of that layout.
inline int64_t kv_key_index(int p, int d, int head_dim) {
  return int64_t(p / kKvKeys) * head_dim * kKvKeys + int64_t(d) * kKvKeys + p % kKvKeys;
}
enum class KvType : uint8_t { F16, F32 };
inline size_t kv_element_size(KvType t) { return t == KvType::F32 ? 4 : 2; }  // bytes
struct KvAttention {
  int n_q = 0, n_kv = 0, heads = 0, kv_heads = 0, head_dim = 0, q_pos0 = 0;
  const float* q = nullptr;
  int64_t ldq = 0;
  KvType type = KvType::F16;
  const void* k = nullptr;  // uint16_t (f16) or float, as type says
  const void* v = nullptr;
  int64_t kv_stride = 0;    // in elements
  float* out = nullptr;
  int64_t ldo = 0;
  float scale = 1.0f;
  bool causal = true;
  // Optional, causal only: the queries' own K and V (f32 rows [n_q][ld_new], kv head g at
  // column g * head_dim), written at positions q_pos0 .. q_pos0 + n_q - 1 before they are read.
  // Each kv head's rows are written by a task of that head, so a decode step's cache writes
  // run on every thread and leave their lines warm for the reads. k and v must then point to
  // writable memory (a KV cache).
  const float* new_k = nullptr;
  const float* new_v = nullptr;
  int64_t ld_new = 0;
};
// Runs n independent attentions (e.g. one per sequence of a batch) as one parallel loop.
void kv_attention(const KvAttention* a, int n, bool parallel = true);

// Writes n rows of one kv head's K and V (f32, row i at k + i * ld and v + i * ld) at positions
// pos .. pos + n - 1 of that head's region (kh, vh) in the layout above, as `type`.
void kv_store_head(KvType type, int head_dim, int pos, int n, const float* k, const float* v, int64_t ld, void* kh,
                   void* vh);

// K and V rows ([n][ld], head h at column h * head_dim) into the f32 layout of KvAttention,
// kv_stride = n rounded up to kKvKeys, times head_dim: kt and vt hold heads * kv_stride floats.
void kv_layout(const float* k, const float* v, int n, int64_t ld, int heads, int head_dim, float* kt, float* vt);

// Attention of n rows to each other, unmasked (the vision encoder), every head: q, k, v are
// [n][ld] with head h at column h * head_dim (a multiple of 64), out [n][ldo]. Q, K, V and the
// softmax weights are rounded to bf16 for vdpbf16ps; scores, softmax and sums stay f32.
// Returns false (doing nothing) unless has_avx512_bf16().
bool self_attention_bf16(const float* q, const float* k, const float* v, int n, int64_t ld, int heads, int head_dim,
                         float scale, float* out, int64_t ldo, bool parallel = true);
// The same roundings in portable code, for tests on any CPU.
void self_attention_bf16_emulated(const float* q, const float* k, const float* v, int n, int64_t ld, int heads,
                                  int head_dim, float scale, float* out, int64_t ldo, bool parallel = true);

// f32_to_f16 (kernels/convert.h) over a row.
void f32_to_f16_row(const float* x, int n, uint16_t* out);

// One step of an online softmax for a row of raw scores s[0..bk) of which the first n are
// visible: s becomes exp(s * scale - m') (0 past n), o[0..hd) is rescaled for the new max
// m', and the running max m and sum l advance. Returns l. Shared by the attention kernels.
float online_softmax_row(float* s, int n, int bk, float scale, float& m, float& l, float* o, int hd);

// Row-wise ops on [rows, n] (contiguous rows; out may equal x). Parallel over rows.
void layernorm(const float* x, int rows, int n, const float* w, const float* b, float eps, float* out);
void rmsnorm(const float* x, int rows, int n, const float* w, float eps, float* out);
void gelu_tanh(float* x, int64_t n);                               // in place
void silu_mul(float* gate, const float* up, int64_t n);            // gate = silu(gate) * up
void softmax(float* x, int n);                                     // one row, in place

// RoPE (half-split / rotate_half form) on `rows` vectors of `heads` heads each:
// v = x + r*ld + h*head_dim, rotated by angle pos[r] * inv_freq[i] with the cos/sin table
// `cs` laid out [pos][head_dim/2 cos values, head_dim/2 sin values].
void rope(float* x, int rows, int64_t ld, int heads, int head_dim, const int32_t* pos, const float* cs);
// Fills cs for positions [0, n_pos) as torch does: inv_freq[i] = 1 / (float)pow(theta, (float)(2i)/hd),
// angle = (float)pos * inv_freq[i] in f32, cos/sin in f32.
void rope_table(int n_pos, int head_dim, double theta, float* cs);

// Index of the largest value (first one on ties, like torch.argmax).
int argmax(const float* x, int n);

// Greedy decoding's choice in each of `rows` rows of logits ([rows][vocab]): the argmax and its
// natural log-probability under the row's softmax, the rows spread over the threads.
void greedy_rows(const float* logits, int rows, int vocab, int32_t* tokens, float* logprobs, bool parallel = true);

}  // namespace docling::kernels
