// std::vector whose data starts on a 64-byte cache line. Rows of activations are read with
// 32-byte loads; at malloc's 16-byte alignment half of those would straddle two lines.
#pragma once

#include <cstddef>
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

}  // namespace docling::kernels
