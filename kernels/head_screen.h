// The output head's greedy choice without reading all of its bf16 weights: an int8 copy of
// the head screens every column, and only the columns the screen cannot rule out get their
// logit from the exact product.
//
// Takes: the head's bf16 rows [N][K] (nn.Linear: one row per vocabulary entry), once at load;
// per decode step the head's product (a kernels::Gemm over its panels) for the rows to choose
// for. Gives: each row's argmax and its log-probability.
//
// Why it is exact: with each column quantized per channel (scale s, q = round(w / s)) and x
// per row in one or two int8 planes (x ~ t x1, or t x1 + t2 x2 with t2 = t / 254; the last
// plane's scale t'), A = s (t sum(x1 q) [+ t2 sum(x2 q)]) differs from the real sum x . w by at
// most B = s (|x|_1 + t' |q|_1) / 2, widened by a margin far above what the products' float
// additions can lose. The column the exact product ranks first therefore has A + B at least
// the largest A - B of its row: every column below that is ruled out, and the rest (tens of the
// 100k on the models measured) are computed by the same kernel, rows and arithmetic as the full
// product, so the argmax (first index on ties) is the full product's bit for bit. The
// log-probability takes the exact logits of those columns and the screen's A for the others
// (within 1e-2 of the full softmax's; the choice itself is exact).
#pragma once

#include <cstdint>

#include "kernels/aligned.h"
#include "kernels/kernels.h"

namespace docling::kernels {

struct HeadScreen {
  int N = 0, K = 0;
  int kq = 0;      // groups of 4 k (K rounded up to 4, zero-padded)
  int panels = 0;  // of 16 columns (N rounded up, zero columns past N)
  large_vector<int8_t> q;         // [panels][kq][16][4]: dword j of a row holds 4 k of column j (huge pages: streamed)
  aligned_vector<float> scale;    // [panels * 16] per column (1 past N)
  aligned_vector<int32_t> sum;    // [panels * 16] sum over k of q (the u8 offset's correction)
  aligned_vector<int32_t> abs_sum;  // [panels * 16] sum over k of |q|
  double mean_abs_q = 0.0;          // over all of q
  bool empty() const { return N == 0; }
  size_t bytes() const { return q.size() + 12 * scale.size(); }
};

// The screen of a head with bf16 rows w[N][K] (row n at w + n * ldw).
HeadScreen make_head_screen(const uint16_t* w, int N, int K, int64_t ldw);

// Whether screened_greedy can run at the active level (it needs a vpdpbusd kernel: AVX512-VNNI,
// or AVX-VNNI at the AVX2 level with KernelSettings::avx_vnni).
bool head_screen_usable();

// For the head.M rows of head.x (ldx apart): tokens[r] = the argmax over the N logits the
// product `head` gives (head.y and head.ldy are not used), logprobs[r] its log-probability.
// `screen` must come from the same weights as head.b. Returns false, doing nothing, where the
// screen does not apply: no vpdpbusd kernel at the active level, shapes that differ, a row
// with non-finite values, or a row whose columns are too close to rule enough of them out;
// the caller then takes the full product.
bool screened_greedy(const HeadScreen& screen, const Gemm& head, int32_t* tokens, float* logprobs);

}  // namespace docling::kernels
