// Timing helper of the peak micro-benchmarks (bench_model_bench, bench_gemm_bench,
// bench_bf16_peak).
#pragma once

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

namespace docling::bench {

// Wall seconds for `threads` threads to run f() once each, all released at the same moment
// after every thread has started (so a register-bound loop measures the cores, not the
// thread start-up).
template <class F>
double run_together(int threads, const F& f) {
  std::atomic<int> ready{0};
  std::atomic<bool> go{false};
  std::vector<std::thread> pool;
  for (int i = 0; i < threads; ++i)
    pool.emplace_back([&] {
      ready.fetch_add(1);
      while (!go.load(std::memory_order_acquire)) {}
      f();
    });
  while (ready.load() < threads) {}
  const auto t0 = std::chrono::steady_clock::now();
  go.store(true, std::memory_order_release);
  for (auto& th : pool) th.join();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace docling::bench
