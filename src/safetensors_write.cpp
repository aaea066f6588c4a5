#include <bit>
#include <cstring>
#include <nlohmann/json.hpp>

#include "safetensors.h"
#include "tinygpt/error.h"

namespace tinygpt {

static_assert(std::endian::native == std::endian::little, "safetensors data is little-endian");

void SafetensorsWriter::add_f32(const std::string& name, const std::vector<std::int64_t>& shape,
                                std::span<const float> values) {
  for (const auto& e : entries_)
    if (e.name == name) throw_model_error("safetensors: tensor " + name + " added twice");
  Entry e{name, shape, data_.size(), data_.size() + values.size_bytes()};
  data_.append(reinterpret_cast<const char*>(values.data()), values.size_bytes());
  entries_.push_back(std::move(e));
}

std::string SafetensorsWriter::finish(const std::map<std::string, std::string>& metadata) const {
  // The format's header is a JSON object; readers do not depend on key order, but keeping
  // the order of addition makes the file read like the model (embeddings, blocks, ln_f).
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  for (const auto& e : entries_)
    header[e.name] = {{"dtype", "F32"}, {"shape", e.shape}, {"data_offsets", {e.begin, e.end}}};
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');  // 8 (length) + header is then a multiple of 8

  std::string file(8, '\0');
  const std::uint64_t length = text.size();
  std::memcpy(file.data(), &length, sizeof length);
  file.reserve(8 + text.size() + data_.size());
  file += text;
  file += data_;
  return file;
}

}  // namespace tinygpt
