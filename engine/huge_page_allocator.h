// HugePageAllocator: an allocator for big, randomly accessed tables (the
// Projector's transaction lookup). Blocks of 2 MiB or more are 2 MiB aligned
// and marked MADV_HUGEPAGE, so that a lookup in a table of hundreds of MB
// does not also miss the TLB and walk the page tables: this machine's
// transparent huge pages are "madvise" only. Smaller blocks come from
// std::allocator. Thread-safety: as std::allocator (stateless).
#ifndef SBD_ENGINE_HUGE_PAGE_ALLOCATOR_H_
#define SBD_ENGINE_HUGE_PAGE_ALLOCATOR_H_

#include <sys/mman.h>

#include <cstddef>
#include <cstdlib>
#include <memory>
#include <new>

namespace sbd {

template <typename T>
class HugePageAllocator {
 public:
  using value_type = T;

  HugePageAllocator() = default;
  template <typename U>
  HugePageAllocator(const HugePageAllocator<U>&) {}  // NOLINT: rebinding converts implicitly.

  T* allocate(size_t n) {
    const size_t bytes = n * sizeof(T);
    if (bytes < kHugePage) return std::allocator<T>().allocate(n);
    const size_t rounded = (bytes + kHugePage - 1) / kHugePage * kHugePage;
    void* block = std::aligned_alloc(kHugePage, rounded);
    if (block == nullptr) throw std::bad_alloc();
    // Advice only: without huge pages the table works the same, just slower.
    madvise(block, rounded, MADV_HUGEPAGE);
    return static_cast<T*>(block);
  }

  void deallocate(T* block, size_t n) {
    if (n * sizeof(T) < kHugePage) {
      std::allocator<T>().deallocate(block, n);
    } else {
      std::free(block);
    }
  }

  friend bool operator==(const HugePageAllocator&, const HugePageAllocator&) { return true; }

 private:
  static constexpr size_t kHugePage = size_t{2} << 20;
};

}  // namespace sbd

#endif  // SBD_ENGINE_HUGE_PAGE_ALLOCATOR_H_
