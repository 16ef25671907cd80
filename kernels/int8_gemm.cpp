// The XType::I8 product's driver and its portable level (see kernels/int8_gemm.h).
#include "kernels/int8_gemm.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <vector>

namespace docling::kernels {

namespace detail {

namespace {

constexpr int MCP = 4;                             // most row panels per task
constexpr int NGP = 8;                             // most column panels per task
constexpr int64_t kMaxPackedB = int64_t(4) << 20;  // dwords of packed B per column block (16 MB)
constexpr int kBlockQ = kI8Block / 4;              // dwords per k block

// --- portable level ------------------------------------------------------------------------

constexpr int kScalarMR = 4, kScalarNR = 16;

float quantize_scalar(const float* x, int K, int ldq, uint8_t* q) {
  int8_t* d = reinterpret_cast<int8_t*>(q);
  const float xs = quantize_row_i8(x, K, d);
  std::memset(d + K, 0, size_t(ldq - K));
  return xs;
}

void micro_scalar(int kcq, const uint8_t* a, const uint32_t* b, const int32_t* csum, const float* xs,
                  const float* ws, const float* bias, float* c, int64_t ldc, bool add_c) {
  int32_t acc[kScalarMR][kScalarNR] = {};
  for (int kq = 0; kq < kcq; ++kq)
    for (int r = 0; r < kScalarMR; ++r) {
      const int8_t* ar = reinterpret_cast<const int8_t*>(a + r * kI8Block + 4 * kq);
      for (int j = 0; j < kScalarNR; ++j) {
        int8_t bb[4];
        std::memcpy(bb, b + kq * kScalarNR + j, 4);
        acc[r][j] += ar[0] * bb[0] + ar[1] * bb[1] + ar[2] * bb[2] + ar[3] * bb[3];
      }
    }
  for (int r = 0; r < kScalarMR; ++r)
    for (int j = 0; j < kScalarNR; ++j) {
      const int32_t s = acc[r][j] - (csum ? 128 * csum[j] : 0);
      const float v = std::fma(float(s) * xs[r], ws[j], bias ? bias[j] : 0.0f);
      float& out = c[r * ldc + j];
      out = add_c ? out + v : v;
    }
}

// --- packing B -----------------------------------------------------------------------------

// Columns [n0, n0 + nr) of B (NK int8), k in [k0, k0 + kc), as ceil(kc / 4) rows of nr dwords;
// csum[j] = the sum of those bytes of column j (when csum is not null).
void pack_panel(const Gemm& g, int k0, int kc, int n0, int nr, uint32_t* dst, int32_t* csum) {
  const int8_t* B = static_cast<const int8_t*>(g.b);
  const int nv = std::min(nr, g.N - n0), kcq = (kc + 3) / 4, full = kc / 4;
  for (int j = 0; j < nv; ++j) {
    const int8_t* s = B + int64_t(n0 + j) * g.ldb + k0;
    int32_t sum = 0;
    for (int kq = 0; kq < full; ++kq) std::memcpy(dst + kq * nr + j, s + 4 * kq, 4);
    if (full < kcq) {
      int8_t t[4] = {0, 0, 0, 0};
      for (int i = 0; i < kc - 4 * full; ++i) t[i] = s[4 * full + i];
      std::memcpy(dst + full * nr + j, t, 4);
    }
    if (csum) {
      for (int k = 0; k < kc; ++k) sum += s[k];
      csum[j] = sum;
    }
  }
  for (int j = nv; j < nr; ++j) {
    for (int kq = 0; kq < kcq; ++kq) dst[kq * nr + j] = 0;
    if (csum) csum[j] = 0;
  }
}

}  // namespace

void gemm_i8_driver(const Gemm& g, bool parallel, const I8Level& L) {
  const int MR = L.mr, NR = L.nr;
  const int ldq = (g.K + 3) / 4 * 4, nkb = (g.K + kI8Block - 1) / kI8Block;
  const int mpan = (g.M + MR - 1) / MR, Mp = mpan * MR;
  const int Np = (g.N + NR - 1) / NR * NR;
  // One allocation per call from the calling thread's scratch: quantized x, row scales,
  // column scales and bias padded to whole panels, packed B and its block column sums.
  const int ncb = std::min(Np, std::max(NR, int(kMaxPackedB / (int64_t(nkb) * kBlockQ)) / NR * NR));
  const size_t xq_words = size_t(Mp) * size_t(nkb) * (kI8Block / 4);
  const size_t b_words = size_t(nkb) * kBlockQ * size_t(ncb), cs_words = size_t(nkb) * size_t(ncb);
  thread_local ThreadScratch<uint32_t> tls;
  ThreadScratch<uint32_t> own;
  ScratchHold<uint32_t> hold(tls, own);
  auto line = [](size_t words) { return (words + 15) / 16 * 16; };  // sections start on 64 bytes
  const size_t o_xs = line(xq_words), o_ws = o_xs + line(size_t(Mp)), o_bias = o_ws + line(size_t(Np));
  const size_t o_b = o_bias + line(size_t(Np)), o_cs = o_b + line(b_words);
  uint32_t* const base = hold.get(o_cs + cs_words);
  uint8_t* const XQ = reinterpret_cast<uint8_t*>(base);
  float* const xs = reinterpret_cast<float*>(base + o_xs);
  float* const ws = reinterpret_cast<float*>(base + o_ws);
  float* const bias = reinterpret_cast<float*>(base + o_bias);
  uint32_t* const B = base + o_b;
  int32_t* const CS = reinterpret_cast<int32_t*>(base + o_cs);
  const int ng = groups_of(g);
  for (int n = 0; n < Np; ++n) {
    ws[n] = n < g.N ? g.bscale[int64_t(n) * ng] : 0.0f;
    bias[n] = n < g.N && g.bias ? g.bias[n] : 0.0f;
  }
  // Row m, k block kb of the quantized x.
  auto xrow = [&](int m, int kb) { return XQ + ((int64_t(m / MR) * nkb + kb) * MR + m % MR) * kI8Block; };
  run_tasks(mpan, parallel, [&](int q) {
    thread_local std::vector<uint8_t> row;
    if (row.size() < size_t(ldq)) row.resize(size_t(ldq));
    for (int m = q * MR; m < (q + 1) * MR; ++m) {
      if (m < g.M) xs[m] = L.quantize(g.x + int64_t(m) * g.ldx, g.K, ldq, row.data());
      else xs[m] = 0.0f, std::memset(row.data(), L.offset ? 0x80 : 0, size_t(ldq));
      for (int kb = 0; kb < nkb; ++kb)
        std::memcpy(xrow(m, kb), row.data() + kb * kI8Block, size_t(std::min(kI8Block, ldq - kb * kI8Block)));
    }
  });
  const int QP = block_size(mpan, MCP, 1), mt = (mpan + QP - 1) / QP;
  for (int n0 = 0; n0 < g.N; n0 += ncb) {
    const int nc = std::min(ncb, g.N - n0), npan = (nc + NR - 1) / NR;
    auto panel = [&](int kb, int p) { return B + (int64_t(kb) * npan + p) * kBlockQ * NR; };
    auto sums = [&](int kb, int p) { return L.offset ? CS + (int64_t(kb) * npan + p) * NR : nullptr; };
    const int bgroups = (npan + 3) / 4;
    run_tasks(nkb * bgroups, parallel, [&](int t) {
      const int kb = t / bgroups, p0 = t % bgroups * 4, k0 = kb * kI8Block, kc = std::min(kI8Block, g.K - k0);
      for (int p = p0; p < std::min(npan, p0 + 4); ++p)
        pack_panel(g, k0, kc, n0 + p * NR, NR, panel(kb, p), sums(kb, p));
    });
    const int PP = block_size(npan, NGP, 1), nt = (npan + PP - 1) / PP;
    run_tasks(mt * nt, parallel, [&](int t) {
      const int q0 = t / nt * QP, q1 = std::min(mpan, q0 + QP), p0 = t % nt * PP, p1 = std::min(npan, p0 + PP);
      for (int kb = 0; kb < nkb; ++kb) {
        const int k0 = kb * kI8Block, kcq = (std::min(kI8Block, g.K - k0) + 3) / 4;
        const bool add_c = k0 > 0 || g.accumulate;
        for (int q = q0; q < q1; ++q) {
          const int row = q * MR, mr = std::min(MR, g.M - row);
          const uint8_t* a = xrow(row, kb);
          for (int p = p0; p < p1; ++p) {
            const int col = n0 + p * NR, nr = std::min(NR, g.N - col);
            const float* bb = k0 == 0 ? bias + col : nullptr;
            float* y = g.y + int64_t(row) * g.ldy + col;
            if (mr == MR && nr == NR) {
              L.micro(kcq, a, panel(kb, p), sums(kb, p), xs + row, ws + col, bb, y, g.ldy, add_c);
              continue;
            }
            alignas(64) float tile[16 * 32];
            L.micro(kcq, a, panel(kb, p), sums(kb, p), xs + row, ws + col, bb, tile, NR, false);
            for (int i = 0; i < mr; ++i)
              for (int j = 0; j < nr; ++j) {
                float& out = y[int64_t(i) * g.ldy + j];
                out = add_c ? out + tile[i * NR + j] : tile[i * NR + j];
              }
          }
        }
      }
    });
  }
}

void gemm_i8_scalar(const Gemm& g, bool parallel) {
  I8Level L;
  L.mr = kScalarMR;
  L.nr = kScalarNR;
  L.quantize = quantize_scalar;
  L.micro = micro_scalar;
  gemm_i8_driver(g, parallel, L);
}

}  // namespace detail

float quantize_row_i8(const float* x, int K, int8_t* xq) {
  float mx = 0.0f;
  for (int k = 0; k < K; ++k) mx = std::max(mx, std::fabs(x[k]));
  float xs, inv;
  if (!detail::i8_scales(mx, xs, inv)) {
    std::memset(xq, 0, size_t(K));
    return xs;
  }
  for (int k = 0; k < K; ++k) xq[k] = detail::i8_round(x[k], inv);
  return xs;
}

}  // namespace docling::kernels
