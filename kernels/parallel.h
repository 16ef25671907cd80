// Task loops, block sizes and per-thread scratch of the blocked matrix products
// (kernels/avx2.cpp, kernels/avx512_bf16.cpp) and the attention. Private to kernels/.
#pragma once

#include <cstddef>

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <tbb/partitioner.h>
#include <tbb/task_arena.h>

#include "kernels/aligned.h"

namespace docling::kernels {

// f(0..n-1), one task each on the TBB threads (or in order on this thread when !parallel).
// Isolated: while it waits, the calling thread runs only these tasks, so per-thread scratch
// that the tasks share (a packed B) is not reused by unrelated work stolen meanwhile.
template <class F>
void run_tasks(int n, bool parallel, const F& f) {
  if (!parallel || n <= 1) {
    for (int t = 0; t < n; ++t) f(t);
    return;
  }
  tbb::this_task_arena::isolate([&] {
    tbb::parallel_for(
        tbb::blocked_range<int>(0, n, 1),
        [&](const tbb::blocked_range<int>& r) {
          for (int t = r.begin(); t < r.end(); ++t) f(t);
        },
        tbb::simple_partitioner());
  });
}

// Even split of n into blocks of at most `most`, each rounded up to a multiple of `mult`.
inline int block_size(int n, int most, int mult) {
  const int blocks = (n + most - 1) / most, per = (n + blocks - 1) / blocks;
  return (per + mult - 1) / mult * mult;
}

// Growable, cache-line aligned scratch of one thread (grows to its high-water mark).
template <class T>
struct ThreadScratch {
  aligned_vector<T> v;
  bool busy = false;
  T* get(size_t n) {
    if (v.size() < n) v.resize(n);
    return v.data();
  }
};

// Holds `tls` for one call, or `own` when a call on this thread already holds it (a nested
// call, which run_tasks' isolation should prevent).
template <class T>
class ScratchHold {
 public:
  ScratchHold(ThreadScratch<T>& tls, ThreadScratch<T>& own) : s_(tls.busy ? own : tls) { s_.busy = true; }
  ~ScratchHold() { s_.busy = false; }
  ScratchHold(const ScratchHold&) = delete;
  ScratchHold& operator=(const ScratchHold&) = delete;
  T* get(size_t n) { return s_.get(n); }

 private:
  ThreadScratch<T>& s_;
};

}  // namespace docling::kernels
