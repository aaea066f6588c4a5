#pragma once
// The safetensors file format (Hugging Face's): an 8-byte little-endian header length, a
// JSON header giving each tensor's dtype, shape and byte range ("data_offsets", relative
// to the end of the header), then the raw little-endian data. This half only reads and
// validates a file; which tensors a model needs and what they mean is the checkpoint
// convention's (hf_gpt2.h) and the architecture's (architecture.h).
#include <cstddef>
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tinygpt/weight_store.h"

namespace tinygpt {

struct SafetensorsTensor {
  std::string dtype;                 // as the header spells it: "F32", "F16", "BF16", "I64", ...
  std::vector<std::int64_t> shape;   // as the file gives it ([] is a scalar)
  std::span<const std::byte> bytes;  // inside the file, checked to be shape x dtype size
  std::uint64_t offset = 0;          // of the first byte, from the start of the file

  std::uint64_t element_count() const;
};

struct Safetensors {
  std::map<std::string, SafetensorsTensor> tensors;
  std::map<std::string, std::string> metadata;  // "__metadata__": strings to strings
};

// Reads the header of a whole file held in memory and checks it against the file before
// anything is used: the header length and every byte range inside the file, ranges that do
// not overlap, each range exactly shape x dtype size, dtypes the format defines. Throws
// Error(model) naming `where` and the tensor at fault.
Safetensors parse_safetensors(std::span<const std::byte> file, const std::string& where);

// A tensor's values as the Model keeps them: float32, and for a Conv1D weight ([in, out]
// in the file, `transpose`) [out][in]. F32 data that needs no transpose and is aligned is
// used in place (the caller keeps the file mapped, e.g. with WeightStore::keep_alive); F16
// and BF16 are widened exactly and, like anything transposed or unaligned, written into
// `store`. Values that pass through are checked to be finite; F32 used in place is not
// read at all (that is what makes loading a mapped file take milliseconds). Throws
// Error(model) naming the tensor for a dtype other than F32, F16 and BF16.
std::span<const float> safetensors_values(const SafetensorsTensor& t, const std::string& name, bool transpose,
                                          WeightStore& store, const std::string& where);

// Whether the tensor's bytes can serve as float32 values where they lie: F32, aligned to 4
// bytes in memory. A Conv1D weight that can is used so, in the file's [in][out] layout
// (Layout::in_out, model.h), instead of being copied and transposed.
bool safetensors_f32_in_place(const SafetensorsTensor& t);

// Floats safetensors_values will take from `store` for this tensor (to reserve them up front).
std::uint64_t safetensors_floats_to_store(const SafetensorsTensor& t, bool transpose);

// Writes a safetensors file of float32 tensors (src/safetensors_write.cpp), in the order
// they are added. The header is padded with spaces so that the data starts at a multiple
// of 8 bytes, as Hugging Face's writer does: that alignment is what lets a reader use F32
// tensors in place from a memory map.
class SafetensorsWriter {
 public:
  void add_f32(const std::string& name, const std::vector<std::int64_t>& shape, std::span<const float> values);
  // The whole file. "__metadata__" is written only when `metadata` is not empty.
  std::string finish(const std::map<std::string, std::string>& metadata) const;

 private:
  struct Entry {
    std::string name;
    std::vector<std::int64_t> shape;
    std::uint64_t begin = 0, end = 0;  // data_offsets
  };
  std::vector<Entry> entries_;
  std::string data_;
};

}  // namespace tinygpt
