#include "kernels/aligned.h"

#include <sys/mman.h>

namespace docling::kernels {

namespace {
constexpr size_t kHugePage = size_t(2) << 20;
constexpr std::align_val_t kLineAlign{64}, kHugeAlign{kHugePage};
}  // namespace

void* allocate_large(size_t bytes) {
  if (bytes < kHugePage) return ::operator new(bytes, kLineAlign);
  const size_t rounded = (bytes + kHugePage - 1) / kHugePage * kHugePage;
  void* p = ::operator new(rounded, kHugeAlign);
#ifdef MADV_HUGEPAGE
  madvise(p, rounded, MADV_HUGEPAGE);  // a hint: without transparent huge pages nothing changes
#endif
  return p;
}

void free_large(void* p, size_t bytes) noexcept {
  if (bytes < kHugePage) ::operator delete(p, kLineAlign);
  else ::operator delete(p, kHugeAlign);
}

}  // namespace docling::kernels
