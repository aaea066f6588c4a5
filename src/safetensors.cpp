#include "safetensors.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <nlohmann/json.hpp>
#include <optional>

#include "architecture.h"
#include "json_scan.h"
#include "kernels.h"
#include "tinygpt/error.h"

namespace tinygpt {

static_assert(std::endian::native == std::endian::little, "safetensors data is little-endian");

namespace {

// Bytes per element of every dtype the format defines; a header naming anything else is
// not a safetensors file we understand.
std::optional<std::uint64_t> dtype_size(std::string_view dtype) {
  static constexpr std::pair<std::string_view, std::uint64_t> kSizes[] = {
      {"BOOL", 1}, {"U8", 1},  {"I8", 1},  {"F8_E5M2", 1}, {"F8_E4M3", 1}, {"I16", 2}, {"U16", 2}, {"F16", 2},
      {"BF16", 2}, {"I32", 4}, {"U32", 4}, {"F32", 4},     {"F64", 8},     {"I64", 8}, {"U64", 8}};
  for (const auto& [name, size] : kSizes)
    if (name == dtype) return size;
  return std::nullopt;
}

std::uint64_t read_le64(const std::byte* p) {
  std::uint64_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

// IEEE half to float, exactly (every half is a float).
float half_to_float(std::uint16_t h) {
  const std::uint32_t sign = static_cast<std::uint32_t>(h & 0x8000u) << 16;
  const std::uint32_t exponent = static_cast<std::uint32_t>(h >> 10) & 0x1fu;
  const std::uint32_t mantissa = static_cast<std::uint32_t>(h) & 0x3ffu;
  if (exponent == 0) {  // zero or subnormal: mantissa x 2^-24
    const float magnitude = static_cast<float>(mantissa) * 0x1p-24f;
    return sign ? -magnitude : magnitude;
  }
  if (exponent == 31) return std::bit_cast<float>(sign | 0x7f800000u | (mantissa << 13));  // inf, NaN
  return std::bit_cast<float>(sign | ((exponent + 112) << 23) | (mantissa << 13));         // rebias 15 -> 127
}

// The tensor's values in file order, as float32, into out (element_count() floats).
void widen(const SafetensorsTensor& t, std::span<float> out) {
  const std::byte* p = t.bytes.data();
  if (t.dtype == "F32") {
    std::memcpy(out.data(), p, out.size() * sizeof(float));
  } else if (t.dtype == "F16") {
    for (std::size_t i = 0; i < out.size(); ++i) {
      std::uint16_t h;
      std::memcpy(&h, p + 2 * i, 2);
      out[i] = half_to_float(h);
    }
  } else {  // BF16: the top half of a float32
    for (std::size_t i = 0; i < out.size(); ++i) {
      std::uint16_t h;
      std::memcpy(&h, p + 2 * i, 2);
      out[i] = std::bit_cast<float>(static_cast<std::uint32_t>(h) << 16);
    }
  }
}

// F32 data the mapping holds at a float's alignment can be read as floats where it is.
bool aligned_f32(const SafetensorsTensor& t) {
  return t.dtype == "F32" && reinterpret_cast<std::uintptr_t>(t.bytes.data()) % alignof(float) == 0;
}

bool usable_in_place(const SafetensorsTensor& t, bool transpose) { return !transpose && aligned_f32(t); }

}  // namespace

std::uint64_t SafetensorsTensor::element_count() const {
  std::uint64_t n = 1;
  for (auto d : shape) n *= static_cast<std::uint64_t>(d);  // bounded when the header was checked
  return n;
}

Safetensors parse_safetensors(std::span<const std::byte> file, const std::string& where) {
  if (file.size() < 8)
    throw_model_error(where + " is too short for a safetensors file (" + std::to_string(file.size()) +
                      " bytes; the header length alone takes 8)");
  const std::uint64_t header_length = read_le64(file.data());
  const std::uint64_t after_length = file.size() - 8;
  if (header_length > after_length)
    throw_model_error(where + ": the header length " + std::to_string(header_length) +
                      " runs past the end of the file (" + std::to_string(after_length) + " bytes follow it)");
  const std::string_view header_text(reinterpret_cast<const char*>(file.data() + 8), header_length);
  const std::span<const std::byte> data = file.subspan(8 + header_length);

  nlohmann::json header;
  try {
    header = parse_json_unique_keys(header_text, where + ": the header");
  } catch (const nlohmann::json::exception& e) {
    throw_model_error(where + ": the header is not JSON (" + e.what() + ")");
  }
  if (!header.is_object()) throw_model_error(where + ": the header is not a JSON object");

  Safetensors out;
  for (const auto& [name, entry] : header.items()) {
    if (name == "__metadata__") {
      if (!entry.is_object()) throw_model_error(where + ": \"__metadata__\" must be an object of strings");
      for (const auto& [key, value] : entry.items()) {
        if (!value.is_string())
          throw_model_error(where + ": \"__metadata__\" field \"" + key + "\" must be a string, found " + value.dump());
        out.metadata.emplace(key, value.get<std::string>());
      }
      continue;
    }
    const std::string at = where + ": tensor " + name;
    if (!entry.is_object()) throw_model_error(at + " must be an object with dtype, shape and data_offsets");
    const auto dtype = entry.find("dtype"), shape = entry.find("shape"), offsets = entry.find("data_offsets");
    if (dtype == entry.end() || !dtype->is_string()) throw_model_error(at + " has no \"dtype\" string");
    if (shape == entry.end() || !shape->is_array()) throw_model_error(at + " has no \"shape\" list");
    if (offsets == entry.end() || !offsets->is_array() || offsets->size() != 2)
      throw_model_error(at + " has no \"data_offsets\" pair [begin, end]");

    SafetensorsTensor t;
    t.dtype = dtype->get<std::string>();
    const auto size = dtype_size(t.dtype);
    if (!size) throw_model_error(at + " has an unknown dtype \"" + t.dtype + "\"");
    // Counted in 128 bits, so that no header can overflow the product; anything beyond
    // the data's size is refused below.
    unsigned __int128 bytes = *size;
    for (const auto& d : *shape) {
      if (!d.is_number_unsigned() || d.get<std::uint64_t>() > 0xffffffffu)
        throw_model_error(at + ": shape " + shape->dump() + " must hold non-negative integers");
      t.shape.push_back(d.get<std::int64_t>());
      bytes = std::min<unsigned __int128>(bytes * d.get<std::uint64_t>(), static_cast<unsigned __int128>(1) << 64);
    }
    for (const auto& o : *offsets)
      if (!o.is_number_unsigned())
        throw_model_error(at + ": data_offsets " + offsets->dump() + " must be two non-negative integers");
    const std::uint64_t begin = (*offsets)[0].get<std::uint64_t>(), end = (*offsets)[1].get<std::uint64_t>();
    if (begin > end) throw_model_error(at + ": data_offsets " + offsets->dump() + " end before they begin");
    if (end > data.size())
      throw_model_error(at + ": data_offsets " + offsets->dump() + " run past the end of the file (the data holds " +
                        std::to_string(data.size()) + " bytes: a truncated file?)");
    if (bytes != end - begin)
      throw_model_error(
          at + ": data_offsets " + offsets->dump() + " hold " + std::to_string(end - begin) + " bytes, but shape " +
          shape_text(t.shape) + " of " + t.dtype + " needs " +
          (bytes >> 64 ? std::string("more than 2^64") : std::to_string(static_cast<std::uint64_t>(bytes))));
    t.bytes = data.subspan(begin, end - begin);
    t.offset = 8 + header_length + begin;
    out.tensors.emplace(name, std::move(t));
  }

  // No two tensors may share a byte: a file whose tensors alias each other was not
  // written by safetensors, and writing one tensor in place would change another.
  std::vector<std::pair<const std::string*, const SafetensorsTensor*>> by_offset;
  for (const auto& [name, t] : out.tensors)
    if (!t.bytes.empty()) by_offset.emplace_back(&name, &t);
  std::sort(by_offset.begin(), by_offset.end(),
            [](const auto& a, const auto& b) { return a.second->offset < b.second->offset; });
  for (std::size_t i = 1; i < by_offset.size(); ++i) {
    const auto& [prev_name, prev] = by_offset[i - 1];
    const auto& [name, t] = by_offset[i];
    if (t->offset < prev->offset + prev->bytes.size())
      throw_model_error(where + ": tensors " + *prev_name + " and " + *name + " overlap in the file");
  }
  return out;
}

bool safetensors_f32_in_place(const SafetensorsTensor& t) { return aligned_f32(t); }

std::uint64_t safetensors_floats_to_store(const SafetensorsTensor& t, bool transpose) {
  return usable_in_place(t, transpose) ? 0 : t.element_count();
}

std::span<const float> safetensors_values(const SafetensorsTensor& t, const std::string& name, bool transpose,
                                          WeightStore& store, const std::string& where) {
  if (t.dtype != "F32" && t.dtype != "F16" && t.dtype != "BF16")
    throw_model_error(where + ": tensor " + name + " has dtype " + t.dtype +
                      "; tiny-gpt reads F32, F16 and BF16 weights");
  const std::size_t n = static_cast<std::size_t>(t.element_count());
  if (usable_in_place(t, transpose)) return {reinterpret_cast<const float*>(t.bytes.data()), n};

  const std::span<float> dest = store.take(n);
  if (!transpose) {
    widen(t, dest);
    check_tensor_finite(dest, name, where);
    return dest;
  }
  // Aligned F32 is transposed straight from the mapping; anything else is widened first.
  std::vector<float> widened;
  std::span<const float> file_order;
  if (aligned_f32(t)) {
    file_order = {reinterpret_cast<const float*>(t.bytes.data()), n};
  } else {
    widened.resize(n);
    widen(t, widened);
    file_order = widened;
  }
  check_tensor_finite(file_order, name, where);
  const auto in = static_cast<std::size_t>(t.shape.at(0)), out = static_cast<std::size_t>(t.shape.at(1));
  kernels::transpose(dest.data(), file_order.data(), in, out);
  return dest;
}

}  // namespace tinygpt
