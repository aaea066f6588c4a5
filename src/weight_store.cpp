#include "tinygpt/weight_store.h"

#include <sys/mman.h>

#include <cstdlib>
#include <new>

namespace tinygpt {

namespace {
constexpr std::size_t kHugePage = std::size_t{2} << 20;
}

void WeightStore::Free::operator()(float* p) const { std::free(p); }

WeightStore::Block WeightStore::allocate(std::size_t n) {
  // Small blocks (a test model, a bias that arrived on its own) are not worth a huge page.
  const std::size_t bytes = n * sizeof(float);
  const std::size_t align = bytes >= kHugePage ? kHugePage : 64;
  const std::size_t rounded = (bytes + align - 1) / align * align;
  void* p = std::aligned_alloc(align, rounded == 0 ? align : rounded);
  if (!p) throw std::bad_alloc();
#ifdef MADV_HUGEPAGE
  // Advice, not a requirement: without transparent huge pages the block still works.
  // Only the whole 2 MiB pages the floats fill: a huge page at the ragged end would make
  // the first write there resident for all 2 MiB, most of it never used.
  if (align == kHugePage) ::madvise(p, bytes / kHugePage * kHugePage, MADV_HUGEPAGE);
#endif
  return Block(static_cast<float*>(p));
}

void WeightStore::reserve(std::size_t n) {
  if (main_ || n == 0) return;
  main_ = allocate(n);
  main_capacity_ = n;
}

std::span<float> WeightStore::take(std::size_t n) {
  used_ += n;
  if (main_ && main_capacity_ - main_used_ >= n) {
    float* p = main_.get() + main_used_;
    main_used_ += n;
    return {p, n};
  }
  extra_.push_back(allocate(n));
  return {extra_.back().get(), n};
}

std::span<std::uint8_t> WeightStore::take_bytes(std::size_t n) {
  extra_.push_back(allocate((n + sizeof(float) - 1) / sizeof(float)));
  bytes_used_ += n;
  return {reinterpret_cast<std::uint8_t*>(extra_.back().get()), n};
}

}  // namespace tinygpt
