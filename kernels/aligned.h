// std::vector whose data starts on a 64-byte cache line. Rows of activations are read with
// 32-byte loads; at malloc's 16-byte alignment half of those would straddle two lines.
#pragma once

#include <cstddef>
#include <memory>
#include <new>
#include <vector>

namespace docling::kernels {

template <class T>
struct CacheLineAllocator {
  using value_type = T;
  static constexpr std::align_val_t kAlign{64};
  CacheLineAllocator() = default;
  template <class U>
  CacheLineAllocator(const CacheLineAllocator<U>&) noexcept {}
  T* allocate(size_t n) { return static_cast<T*>(::operator new(n * sizeof(T), kAlign)); }
  void deallocate(T* p, size_t) noexcept { ::operator delete(p, kAlign); }
  template <class U>
  bool operator==(const CacheLineAllocator<U>&) const noexcept { return true; }
};

template <class T>
using aligned_vector = std::vector<T, CacheLineAllocator<T>>;

// Memory for the large arrays that decoding streams every step (the decoder's weights, the KV
// cache): blocks of 2 MiB and more start on a 2 MiB boundary and are marked for transparent
// huge pages, so walking them misses the TLB once per 2 MiB instead of once per 4 KiB (Linux
// set to "madvise" gives huge pages to marked memory only; bench/README.md has the gain).
// Pages are not touched here.
void* allocate_large(size_t bytes);  // throws std::bad_alloc
void free_large(void* p, size_t bytes) noexcept;

template <class T>
struct LargePageAllocator {
  using value_type = T;
  LargePageAllocator() = default;
  template <class U>
  LargePageAllocator(const LargePageAllocator<U>&) noexcept {}
  T* allocate(size_t n) { return static_cast<T*>(allocate_large(n * sizeof(T))); }
  void deallocate(T* p, size_t n) noexcept { free_large(p, n * sizeof(T)); }
  template <class U>
  bool operator==(const LargePageAllocator<U>&) const noexcept { return true; }
};

template <class T>
using large_vector = std::vector<T, LargePageAllocator<T>>;

// An uninitialized array of n T from allocate_large (T trivial).
struct LargeFree {
  size_t bytes = 0;
  void operator()(void* p) const noexcept { free_large(p, bytes); }
};
template <class T>
using large_ptr = std::unique_ptr<T, LargeFree>;
template <class T>
large_ptr<T> make_large(size_t n) {
  return large_ptr<T>(static_cast<T*>(allocate_large(n * sizeof(T))), LargeFree{n * sizeof(T)});
}

}  // namespace docling::kernels
