#pragma once
// Where a model's floats live: one block for all the tensors of a file, in file order.
//
// Decoding a token streams through every weight once, so the weights' layout in memory
// is part of the speed: one block aligned to 2 MiB and advised onto transparent huge
// pages has no gaps between tensors and needs a few dozen TLB entries where per-tensor
// allocations on 4 KiB pages need thousands (measured: decode 10-25 % faster).
// The structs in model.h hold spans into the store; the Model owns it, so a Model can be
// moved (the block stays put) but not copied. Tensors a file holds exactly as the Model
// keeps them (float32 in a memory-mapped safetensors file) are used in place instead of
// copied: the store then also keeps that mapping alive (keep_alive).
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <utility>
#include <vector>

namespace tinygpt {

class WeightStore {
 public:
  WeightStore() = default;
  WeightStore(WeightStore&&) noexcept = default;
  WeightStore& operator=(WeightStore&&) noexcept = default;
  WeightStore(const WeightStore&) = delete;
  WeightStore& operator=(const WeightStore&) = delete;

  // Allocates the main block for `n` floats up front (address space only: pages are
  // touched as tensors are written). Callers bound `n` by what the file can hold, so a
  // config that claims a huge model costs nothing until its data shows up.
  void reserve(std::size_t n);

  // The next `n` floats, uninitialised: from the main block while it has room, else from
  // a block of their own (a tensor the reservation did not foresee, the sinusoid table).
  std::span<float> take(std::size_t n);

  // `n` bytes of their own, 64-byte aligned and uninitialised: reduced-precision weights
  // (weight_type.h) made at load. Counted by byte_size(), not size().
  std::span<std::uint8_t> take_bytes(std::size_t n);

  // Floats handed out so far, and bytes handed out by take_bytes.
  std::size_t size() const { return used_; }
  std::size_t byte_size() const { return bytes_used_; }

  // Keeps `owner` (e.g. a file mapping that tensors point into) alive as long as the
  // store. Type-erased so that this header needs no private type.
  void keep_alive(std::shared_ptr<const void> owner) { owners_.push_back(std::move(owner)); }

 private:
  struct Free {
    void operator()(float* p) const;
  };
  using Block = std::unique_ptr<float[], Free>;
  static Block allocate(std::size_t n);

  Block main_;
  std::size_t main_capacity_ = 0, main_used_ = 0;
  std::vector<Block> extra_;
  std::size_t used_ = 0;
  std::size_t bytes_used_ = 0;
  std::vector<std::shared_ptr<const void>> owners_;
};

}  // namespace tinygpt
