// Task loops of the matrix products (vision/kernels.cpp, vision/kernels_bf16.cpp).
// Internal to vision/.
#pragma once

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <tbb/partitioner.h>
#include <tbb/task_arena.h>

namespace docling::vision {

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

}  // namespace docling::vision
