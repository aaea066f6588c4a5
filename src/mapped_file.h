#pragma once
// A model file mapped read-only into memory. Model files are read once, front to back:
// the loader hands pages it has parsed back to the kernel as it goes, so peak memory is
// the weights plus a window of the file, not both in full.
#include <cstddef>
#include <string>
#include <string_view>

namespace tinygpt {

class MappedFile {
 public:
  // Throws Error(model) naming the path: missing, unreadable, a directory, not a regular
  // file (a FIFO is refused without waiting for a writer), empty.
  explicit MappedFile(const std::string& path);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  std::string_view text() const { return {data_, size_}; }
  // Gives back the pages wholly before `offset` (in steps of 16 pages at least).
  void release_before(std::size_t offset);
  // For a file whose bytes are used in place for as long as it is mapped (the float32
  // tensors of a safetensors file): undoes the read-once advice, so that the kernel
  // keeps the pages like any others instead of dropping them soon after a read.
  void advise_reuse();
  // Gives back the pages wholly inside [offset, offset + length): bytes already copied out
  // (a safetensors tensor transposed into the weight store) need not stay resident.
  void release_range(std::size_t offset, std::size_t length);

 private:
  int fd_ = -1;
  const char* data_ = nullptr;
  std::size_t size_ = 0;
  std::size_t released_ = 0;
};

}  // namespace tinygpt
