#include "weights_json.h"

#include <sys/mman.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>

#include "architecture.h"
#include "json_scan.h"
#include "kernels.h"
#include "tinygpt/error.h"

namespace tinygpt {

static_assert(std::endian::native == std::endian::little, "b64 tensors are little-endian float32");

namespace {

struct RawTensor {
  std::vector<std::int64_t> shape;
  std::span<float> values;            // in the model's WeightStore, [out][in] for Conv1D weights
  std::vector<float> data;            // only for values that arrived before their shape: file order
  WeightType type = WeightType::f32;  // version 2 may store reducible tensors reduced ...
  std::span<std::uint8_t> packed;     // ... as rows of [out][in] (weight_type.h)
};

class Base64 {
 public:
  Base64() {
    std::memset(table_, -1, sizeof table_);
    const char* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (int i = 0; i < 64; ++i) table_[static_cast<unsigned char>(alphabet[i])] = static_cast<signed char>(i);
  }
  // Decoded byte count of a padded base64 string, or nullopt when the length is impossible.
  static std::optional<std::size_t> decoded_size(std::string_view s) {
    if (s.size() % 4 != 0) return std::nullopt;
    std::size_t pad = 0;
    if (!s.empty() && s.back() == '=') ++pad;
    if (s.size() > 1 && s[s.size() - 2] == '=') ++pad;
    return s.size() / 4 * 3 - pad;
  }
  // Returns the offset of the first bad character, or npos when all is well.
  std::size_t decode(std::string_view s, unsigned char* out) const {
    const std::size_t n = s.size();
    const std::size_t full = (n >= 4 && s[n - 1] == '=') ? n - 4 : n;  // last quad handled apart if padded
    const auto* in = reinterpret_cast<const unsigned char*>(s.data());
    // SIMD for the clean bulk where the CPU has it; this loop takes over at the first block
    // holding anything else (the padding, or a bad character to report).
    std::size_t i = kernels::decode_base64_prefix(s.data(), full, out);
    out += i / 4 * 3;
    for (; i < full; i += 4) {
      const int a = table_[in[i]], b = table_[in[i + 1]], c = table_[in[i + 2]], d = table_[in[i + 3]];
      if ((a | b | c | d) < 0) return first_bad(s, i);
      const std::uint32_t v =
          (std::uint32_t(a) << 18) | (std::uint32_t(b) << 12) | (std::uint32_t(c) << 6) | std::uint32_t(d);
      out[0] = static_cast<unsigned char>(v >> 16);
      out[1] = static_cast<unsigned char>(v >> 8);
      out[2] = static_cast<unsigned char>(v);
      out += 3;
    }
    if (full == n) return std::string_view::npos;
    const int a = table_[in[i]], b = table_[in[i + 1]];
    const bool two_pad = in[i + 2] == '=';
    const int c = two_pad ? 0 : table_[in[i + 2]];
    if ((a | b | c) < 0) return first_bad(s, i);
    const std::uint32_t v = (std::uint32_t(a) << 18) | (std::uint32_t(b) << 12) | (std::uint32_t(c) << 6);
    out[0] = static_cast<unsigned char>(v >> 16);
    if (!two_pad) out[1] = static_cast<unsigned char>(v >> 8);
    return std::string_view::npos;
  }

 private:
  signed char table_[256];
  std::size_t first_bad(std::string_view s, std::size_t from) const {
    for (std::size_t k = from; k < s.size(); ++k)
      if (table_[static_cast<unsigned char>(s[k])] < 0) return k;
    return from;
  }
};

class Loader {
 public:
  Loader(std::string_view text, std::string where, const LoadOptions& options, const ReleaseText& release)
      : scan_(text, where), where_(std::move(where)), limits_(options), release_(release) {}

  Model run();

 private:
  JsonScanner scan_;
  std::string where_;
  const LoadOptions& limits_;
  const ReleaseText& release_;
  Base64 b64_;
  std::optional<nlohmann::json> format_, version_, config_json_, tokenizer_json_;
  std::map<std::string, RawTensor> tensors_;
  std::uint64_t total_values_ = 0;
  std::optional<Config> config_;
  std::vector<float> scratch_;  // a tensor's values in file order, before they are placed
  WeightStore store_;           // where placed values go; handed to the Model

  nlohmann::json parse_small(std::string_view text, const char* what);
  void read_tensors();
  void read_tensor(const std::string& name);
  std::vector<std::int64_t> read_shape(const std::string& name);
  void read_data(const std::string& name, RawTensor& t, bool shape_known);
  void read_b64(const std::string& name, RawTensor& t, bool shape_known);
  void read_reduced_b64(const std::string& name, RawTensor& t);
  void place(const std::string& name, RawTensor& t, const float* values, std::size_t count);
  void warn_unknown_tokenizer_fields(const nlohmann::json& j);
  Model assemble(Tokenizer tokenizer);
  std::uint64_t claim(const std::string& name, std::uint64_t count);
};

nlohmann::json Loader::parse_small(std::string_view text, const char* what) {
  try {
    return parse_json_unique_keys(text, where_ + ": \"" + what + "\"");
  } catch (const nlohmann::json::exception& e) {
    throw_model_error(where_ + ": cannot parse \"" + what + "\": " + e.what());
  }
}

Model Loader::run() {
  refuse_byte_order_mark(scan_.text(), where_);
  if (scan_.peek() != '{') {
    if (scan_.at_end()) throw_model_error(where_ + " is empty, not a model file");
    scan_.fail("a tiny-gpt weights file is a JSON object");
  }
  std::set<std::string> seen;
  std::vector<std::string> unknown;  // warned about once the file is known to be ours
  auto check_format = [&] {
    if (!format_->is_string() || format_->get<std::string>() != "tiny-gpt")
      throw_model_error(where_ + ": not a tiny-gpt weights file (format is " + format_->dump() +
                        ", expected \"tiny-gpt\")");
  };
  auto check_version = [&] {
    if (!version_->is_number_integer() || version_->get<std::int64_t>() < 1 || version_->get<std::int64_t>() > 2)
      throw_model_error(where_ + ": unsupported version " + version_->dump() + " (this build reads versions 1 and 2)");
  };
  scan_.for_each_member("the top-level object", [&](const std::string& key) {
    if (!seen.insert(key).second) throw_model_error(where_ + ": top-level field \"" + key + "\" appears twice");
    // Format and version are checked on arrival (they come first in our files), so that
    // a stranger's JSON is named as such before anything else is read.
    if (key == "format") {
      format_ = parse_small(scan_.skip_value(), "format");
      check_format();
    } else if (key == "version") {
      version_ = parse_small(scan_.skip_value(), "version");
      if (format_) check_version();  // else "not ours" is the better message, given at the end
    } else if (key == "config") {
      config_json_ = parse_small(scan_.skip_value(), "config");
      config_ = parse_config(*config_json_, where_, limits_);  // early: refuse absurd sizes before reading any tensor
    } else if (key == "tokenizer") {
      tokenizer_json_ = parse_small(scan_.skip_value(), "tokenizer");
    } else if (key == "tensors") {
      read_tensors();
    } else {
      unknown.push_back(key);
      scan_.skip_value();
    }
  });
  if (!scan_.at_end()) scan_.fail("extra text after the top-level object");

  if (!format_) throw_model_error(where_ + ": not a tiny-gpt weights file (no \"format\" field)");
  if (!version_) throw_model_error(where_ + ": missing \"version\" (expected 1)");
  check_version();
  // Version 2 added reduced tensors (dtype f16, q8_0); version 1 readers refuse them by the
  // version, so a version 1 file must not hold them.
  if (version_->get<std::int64_t>() == 1)
    for (const auto& [name, t] : tensors_)
      if (t.type != WeightType::f32)
        throw_model_error(where_ + ": tensor " + name + " has dtype \"" + to_string(t.type) +
                          "\", which needs \"version\": 2");
  if (!unknown.empty() && limits_.on_warning) limits_.on_warning(unknown_fields_warning(where_, "top-level", unknown));
  if (!config_) throw_model_error(where_ + ": missing \"config\"");
  if (!tokenizer_json_) throw_model_error(where_ + ": missing \"tokenizer\"");
  Tokenizer tokenizer = Tokenizer::from_json(*tokenizer_json_, where_);
  warn_unknown_tokenizer_fields(*tokenizer_json_);
  // Nothing could be encoded or sampled (and sampling over zero ids has no answer).
  if (tokenizer.size() == 0) throw_model_error(where_ + ": tokenizer.vocab is empty");
  if (tokenizer.size() > config_->vocab_size)
    throw_model_error(where_ + ": the tokenizer has " + std::to_string(tokenizer.size()) +
                      " entries but config.vocab_size is " + std::to_string(config_->vocab_size));
  return assemble(std::move(tokenizer));
}

// Once the tokenizer has checked out, like the config's unknown fields (which would
// otherwise be silently ignored: a misspelt "eos_tokn" loses the end token).
void Loader::warn_unknown_tokenizer_fields(const nlohmann::json& j) {
  static const std::set<std::string> known = {"type", "vocab", "merges", "bos_token", "eos_token", "unk_token"};
  std::vector<std::string> unknown;
  for (const auto& [key, value] : j.items())
    if (!known.contains(key)) unknown.push_back(key);
  if (!unknown.empty() && limits_.on_warning) limits_.on_warning(unknown_fields_warning(where_, "tokenizer", unknown));
}

std::uint64_t Loader::claim(const std::string& name, std::uint64_t count) {
  if (count > limits_.max_parameters || total_values_ + count > limits_.max_parameters)
    throw Error(ErrorKind::model,
                where_ + ": tensor " + name + " would take the file past the limit of " +
                    std::to_string(limits_.max_parameters) + " parameters (raise it with max_parameters)",
                "max_parameters");
  total_values_ += count;
  return count;
}

void Loader::read_tensors() {
  // One block for every tensor the config calls for, in the order the file lists them.
  // Bounded by what the rest of the file can hold (a value takes at least two characters):
  // a config may claim far more than the file backs, and must not cost that much memory.
  if (config_) {
    const std::uint64_t room = (scan_.text().size() - scan_.offset()) / 2;
    store_.reserve(static_cast<std::size_t>(std::min<unsigned __int128>(stored_parameters(*config_), room)));
  }
  scan_.for_each_member("\"tensors\"", [&](const std::string& name) {
    if (tensors_.contains(name)) throw_model_error(where_ + ": tensor " + name + " appears twice");
    read_tensor(name);
    if (release_) release_(scan_.offset());
  });
}

std::vector<std::int64_t> Loader::read_shape(const std::string& name) {
  if (scan_.peek() != '[') throw_model_error(where_ + ": tensor " + name + ": \"shape\" must be a list of integers");
  const nlohmann::json j = parse_small(scan_.skip_value(), "shape");
  if (j.empty() || j.size() > 2)
    throw_model_error(where_ + ": tensor " + name + ": shape " + j.dump() + " must have 1 or 2 dimensions");
  std::vector<std::int64_t> shape;
  std::uint64_t count = 1;
  for (const auto& d : j) {
    if (!d.is_number_integer() || d.get<std::int64_t>() < 1 || d.get<std::int64_t>() > 0x7fffffff)
      throw_model_error(where_ + ": tensor " + name + ": shape " + j.dump() + " must hold positive integers");
    shape.push_back(d.get<std::int64_t>());
    count *= static_cast<std::uint64_t>(shape.back());  // two factors below 2^31 cannot overflow
  }
  if (count > limits_.max_parameters)
    throw Error(ErrorKind::model,
                where_ + ": tensor " + name + ": shape " + shape_text(shape) + " exceeds the limit of " +
                    std::to_string(limits_.max_parameters) + " parameters (raise it with max_parameters)",
                "max_parameters");
  return shape;
}

static std::uint64_t element_count(const std::vector<std::int64_t>& shape) {
  std::uint64_t n = 1;
  for (auto d : shape) n *= static_cast<std::uint64_t>(d);
  return n;
}

void Loader::read_tensor(const std::string& name) {
  RawTensor t;
  bool has_shape = false, has_values = false;
  std::string dtype = "f32";
  std::set<std::string> fields;
  scan_.for_each_member(("tensor " + name).c_str(), [&](const std::string& key) {
    if (!fields.insert(key).second)
      throw_model_error(where_ + ": tensor " + name + ": field \"" + key + "\" appears twice");
    if (key == "shape") {
      t.shape = read_shape(name);
      has_shape = true;
      if (has_values && element_count(t.shape) != t.data.size())
        throw_model_error(where_ + ": tensor " + name + ": data has " + std::to_string(t.data.size()) +
                          " values but shape " + shape_text(t.shape) + " needs " +
                          std::to_string(element_count(t.shape)));
    } else if (key == "dtype") {
      if (scan_.peek() != '"') throw_model_error(where_ + ": tensor " + name + ": \"dtype\" must be a string");
      dtype = scan_.read_string();
      const auto type = parse_weight_type(dtype);
      if (!type)
        throw_model_error(where_ + ": tensor " + name + ": dtype \"" + dtype +
                          "\" is not supported (\"f32\", or \"f16\" and \"q8_0\" for linear weights)");
      if (*type != WeightType::f32) {
        if (!is_reducible(name))
          throw_model_error(where_ + ": tensor " + name + ": dtype \"" + dtype +
                            "\" is only for the linear weights (attn.c_attn, attn.c_proj, mlp.c_fc, mlp.c_proj, "
                            "lm_head); this one must be f32");
        if (has_values)
          throw_model_error(where_ + ": tensor " + name + ": \"dtype\" \"" + dtype + "\" must come before \"b64\"");
      }
      t.type = *type;
    } else if (key == "data" || key == "b64") {
      if (has_values) throw_model_error(where_ + ": tensor " + name + " has both \"data\" and \"b64\"");
      has_values = true;
      if (t.type != WeightType::f32) {
        if (key == "data" || !has_shape)
          throw_model_error(where_ + ": tensor " + name + ": a " + to_string(t.type) +
                            " tensor is stored as \"shape\", then \"dtype\", then \"b64\"");
        read_reduced_b64(name, t);
      } else if (key == "data") {
        read_data(name, t, has_shape);
      } else {
        read_b64(name, t, has_shape);
      }
    } else {
      throw_model_error(where_ + ": tensor " + name + ": unknown field \"" + key + "\"");
    }
  });
  if (!has_shape) throw_model_error(where_ + ": tensor " + name + " has no \"shape\"");
  if (t.type != WeightType::f32 && t.shape.size() != 2)
    throw_model_error(where_ + ": tensor " + name + ": a " + to_string(t.type) +
                      " tensor must be a matrix, not shape " + shape_text(t.shape));
  if (!has_values) throw_model_error(where_ + ": tensor " + name + " has neither \"data\" nor \"b64\"");
  tensors_.emplace(name, std::move(t));
}

// Makes room for n floats in v (resize, or only reserve): the scratch a Conv1D weight is
// decoded into before its transpose, or values that came before their shape. Large
// buffers are asked to live on transparent huge pages: 512 times fewer page faults while
// loading. (The weights themselves live in the WeightStore, which does the same.)
static void make_room(std::vector<float>& v, std::size_t n, bool resize) {
  if (v.capacity() < n) {
    std::vector<float>().swap(v);
    v.reserve(n);
#ifdef MADV_HUGEPAGE
    constexpr std::uintptr_t kHuge = std::uintptr_t{2} << 20;
    const auto begin = reinterpret_cast<std::uintptr_t>(v.data());
    const std::uintptr_t first = (begin + kHuge - 1) & ~(kHuge - 1), last = (begin + n * sizeof(float)) & ~(kHuge - 1);
    if (last > first) ::madvise(reinterpret_cast<void*>(first), last - first, MADV_HUGEPAGE);
#endif
  }
  if (resize) v.resize(n);
}

// Stores values (file order) into the weight store, transposing Conv1D weights to [out][in].
void Loader::place(const std::string& name, RawTensor& t, const float* values, std::size_t count) {
  t.values = store_.take(count);
  if (is_conv1d(name) && t.shape.size() == 2) {
    const auto in = static_cast<std::size_t>(t.shape[0]), out = static_cast<std::size_t>(t.shape[1]);
    kernels::transpose(t.values.data(), values, in, out);
  } else {
    std::copy(values, values + count, t.values.data());
  }
}

void Loader::read_data(const std::string& name, RawTensor& t, bool shape_known) {
  scan_.expect('[', ("the data of tensor " + name).c_str());
  const std::uint64_t expected = shape_known ? claim(name, element_count(t.shape)) : 0;
  const bool transpose = shape_known && is_conv1d(name) && t.shape.size() == 2;
  // Where the values go. With the shape known and room in the rest of the file for that
  // many values (each takes at least two bytes, "0,"), a span of exactly that size: the
  // weight store itself, or scratch for a Conv1D weight, transposed into the store after.
  // Otherwise a growing vector: values before their shape, or a shape that claims more
  // than the file holds (the data runs out first and is reported as short).
  const std::uint64_t room = (scan_.text().size() - scan_.offset()) / 2 + 1;
  std::span<float> fixed;
  std::vector<float>& grow = t.data;
  grow.clear();
  if (shape_known && expected <= room) {
    if (transpose) {
      make_room(scratch_, expected, true);
      fixed = std::span<float>(scratch_).first(expected);
    } else {
      fixed = store_.take(expected);
    }
  } else if (shape_known) {
    make_room(grow, room, false);
  }
  std::uint64_t n = 0;
  if (!scan_.consume_if(']')) {
    do {
      if (shape_known && n == expected)
        throw_model_error(where_ + ": tensor " + name + ": data has more values than shape " + shape_text(t.shape) +
                          " holds (" + std::to_string(expected) + ")");
      if (!shape_known && n >= limits_.max_parameters)
        throw_model_error(where_ + ": tensor " + name + " exceeds the parameter limit");
      float v;
      if (!scan_.try_read_float(v)) v = scan_.read_float("tensor " + name + " data[" + std::to_string(n) + "]");
      if (!fixed.empty()) fixed[n] = v;
      else grow.push_back(v);
      ++n;
      // Hand back the text behind us as we go: a big tensor's text can be several times
      // its floats, and keeping it mapped would double the peak memory.
      if (release_ && (n & 0xffff) == 0) release_(scan_.offset());
    } while (scan_.consume_if(','));
    scan_.expect(']', ("the data of tensor " + name).c_str());
  }
  if (shape_known && n != expected)
    throw_model_error(where_ + ": tensor " + name + ": data has " + std::to_string(n) + " values but shape " +
                      shape_text(t.shape) + " needs " + std::to_string(expected));
  if (!shape_known) claim(name, n);
  if (transpose) place(name, t, scratch_.data(), expected);
  else if (shape_known) t.values = fixed;
}

void Loader::read_b64(const std::string& name, RawTensor& t, bool shape_known) {
  if (scan_.peek() != '"') throw_model_error(where_ + ": tensor " + name + ": \"b64\" must be a string");
  const std::size_t at = scan_.offset();
  // With the shape first (as our files have it) the string's length is known: take it
  // without searching for the closing quote, which would be a second pass over the text.
  const std::uint64_t want = shape_known ? element_count(t.shape) : 0;
  std::string_view text;
  const bool known_length = shape_known && want <= limits_.max_parameters && want < (std::uint64_t{1} << 60) &&
                            scan_.read_raw_string_of(static_cast<std::size_t>((want * 4 + 2) / 3 * 4), text);
  if (!known_length) text = scan_.read_raw_string();
  auto check_length = [&](std::string_view s) {
    const auto bytes = Base64::decoded_size(s);
    if (!bytes)
      throw_model_error(where_ + ": tensor " + name + ": bad base64 (length " + std::to_string(s.size()) +
                        " is not a multiple of 4)");
    if (*bytes % 4 != 0)
      throw_model_error(where_ + ": tensor " + name + ": base64 decodes to " + std::to_string(*bytes) +
                        " bytes, not whole float32 values");
    const std::uint64_t n = *bytes / 4;
    if (shape_known && n != element_count(t.shape))
      throw_model_error(where_ + ": tensor " + name + ": b64 holds " + std::to_string(n) + " values but shape " +
                        shape_text(t.shape) + " needs " + std::to_string(element_count(t.shape)));
    return n;
  };
  const std::uint64_t count = check_length(text);
  claim(name, count);
  // Straight into the weight store when the values are already in their final order;
  // Conv1D weights go through scratch to be transposed; values before their shape wait
  // in the tensor until assemble() places them.
  const bool transpose = shape_known && is_conv1d(name) && t.shape.size() == 2;
  float* dest = nullptr;
  if (transpose || !shape_known) {
    std::vector<float>& v = transpose ? scratch_ : t.data;
    make_room(v, count, true);
    dest = v.data();
  } else {
    t.values = store_.take(count);
    dest = t.values.data();
  }
  // In pieces, checking each piece's values while they are in cache and handing the text
  // behind us back to the kernel.
  constexpr std::size_t kPiece = std::size_t{1} << 16;  // characters, a multiple of 4
  auto* out = reinterpret_cast<unsigned char*>(dest);
  for (std::size_t pos = 0; pos < text.size(); pos += kPiece) {
    const std::string_view piece = text.substr(pos, kPiece);
    const bool last = pos + kPiece >= text.size();
    std::size_t bad = b64_.decode(piece, out + pos / 4 * 3);
    if (bad == std::string_view::npos && !last && piece.back() == '=') bad = piece.size() - 1;  // padding mid-string
    if (bad != std::string_view::npos) {
      if (known_length) {  // the string may really end earlier: say what the full search would have said
        const std::string_view all = scan_.text();
        const std::size_t end = all.find('"', at + 1);
        if (end != at + 1 + text.size()) check_length(all.substr(at + 1, end - at - 1));
      }
      throw_model_error(where_ + ": tensor " + name + ": bad base64 character at byte " +
                        std::to_string(at + 1 + pos + bad));
    }
    const std::size_t v0 = pos / 4 * 3 / 4, v1 = std::min<std::size_t>(count, (pos + piece.size()) / 4 * 3 / 4);
    std::uint32_t non_finite = 0;  // all-ones exponent: inf or NaN; branch-free so that it vectorises
    for (std::size_t i = v0; i < v1; ++i)
      non_finite |= (std::bit_cast<std::uint32_t>(dest[i]) & 0x7f800000u) == 0x7f800000u;
    if (non_finite) {
      for (std::size_t i = v0; i < v1; ++i)
        if (!std::isfinite(dest[i]))
          throw_model_error(where_ + ": tensor " + name + ": value " + std::to_string(i) + " is not finite (" +
                            std::to_string(dest[i]) + ")");
    }
    if (release_) release_(at + 1 + pos + piece.size());
  }
  if (transpose) place(name, t, scratch_.data(), scratch_.size());
}

// A reduced tensor's bytes (weight_type.h), checked: no infinite or NaN half, q8_0 values
// within -127..127. Rows are the [out][in] matrix's: a Conv1D weight [in, out] holds `out`
// rows of `in` weights, lm_head [V, D] holds V rows of D.
void Loader::read_reduced_b64(const std::string& name, RawTensor& t) {
  if (scan_.peek() != '"') throw_model_error(where_ + ": tensor " + name + ": \"b64\" must be a string");
  const std::size_t at = scan_.offset();
  const std::string_view text = scan_.read_raw_string();
  claim(name, element_count(t.shape));
  // Its rows are the matrix's: a shape of another rank has none (found by fuzz_loader: a
  // one-dimensional shape was indexed past its end).
  if (t.shape.size() != 2)
    throw_model_error(where_ + ": tensor " + name + ": a " + to_string(t.type) +
                      " tensor is a matrix, but its shape is " + shape_text(t.shape));
  const bool conv1d = is_conv1d(name);
  const auto rows = static_cast<std::uint64_t>(t.shape[conv1d ? 1 : 0]);
  const auto cols = static_cast<std::size_t>(t.shape[conv1d ? 0 : 1]);
  const std::uint64_t per_row = row_bytes(t.type, cols), want = rows * per_row;
  const auto bytes = Base64::decoded_size(text);
  if (!bytes || *bytes != want)
    throw_model_error(where_ + ": tensor " + name + ": b64 holds " + (bytes ? std::to_string(*bytes) : "no whole") +
                      " bytes but " + to_string(t.type) + " rows of shape " + shape_text(t.shape) + " need " +
                      std::to_string(want));
  t.packed = store_.take_bytes(static_cast<std::size_t>(want));
  if (const std::size_t bad = b64_.decode(text, t.packed.data()); bad != std::string_view::npos)
    throw_model_error(where_ + ": tensor " + name + ": bad base64 character at byte " + std::to_string(at + 1 + bad));
  auto half_at = [&](std::size_t offset) {
    std::uint16_t h;
    std::memcpy(&h, t.packed.data() + offset, 2);
    return h;
  };
  if (t.type == WeightType::f16) {
    for (std::size_t i = 0; i < want; i += 2)
      if ((half_at(i) & 0x7c00u) == 0x7c00u)
        throw_model_error(where_ + ": tensor " + name + ": value " + std::to_string(i / 2) + " is not finite");
  } else {
    for (std::size_t b = 0; b < want; b += kQ8BlockBytes) {
      if ((half_at(b) & 0x7c00u) == 0x7c00u)
        throw_model_error(where_ + ": tensor " + name + ": the scale of block " + std::to_string(b / kQ8BlockBytes) +
                          " is not finite");
      for (std::size_t i = 2; i < kQ8BlockBytes; ++i)
        if (t.packed[b + i] == 0x80)
          throw_model_error(where_ + ": tensor " + name + ": block " + std::to_string(b / kQ8BlockBytes) +
                            " holds -128 (q8_0 values are -127..127)");
    }
  }
  if (release_) release_(scan_.offset());
}

// Places values that arrived before their shape (file order within the store is kept for
// the rest), then hands the named tensors to the architecture.
Model Loader::assemble(Tokenizer tokenizer) {
  NamedTensors named;
  for (auto& [name, t] : tensors_) {
    if (t.values.empty() && t.type == WeightType::f32) {
      const std::vector<float> file_order = std::move(t.data);
      place(name, t, file_order.data(), file_order.size());
    }
    named.emplace(name, NamedTensor{t.shape, t.values, t.type, t.packed});
  }
  return assemble_model(*config_, std::move(tokenizer), named, std::move(store_), where_);
}
}  // namespace

Model read_weights_json(std::string_view text, const std::string& where, const LoadOptions& options,
                        const ReleaseText& release) {
  Model m = Loader(text, where, options, release).run();
  m.file_bytes = text.size();
  m.format = "tiny-gpt weights JSON";
  // "F32" and, for a quantized file, "F16" or "Q8_0" (safetensors' spelling), by parameters.
  std::uint64_t reduced = 0;
  auto count = [&](const Matrix& w) {
    if (w.type != WeightType::f32) reduced += static_cast<std::uint64_t>(w.rows) * static_cast<std::uint64_t>(w.cols);
  };
  for (const LayerWeights& l : m.weights.layers) {
    count(l.attn_weight);
    count(l.attn_proj_weight);
    count(l.fc_weight);
    count(l.mlp_proj_weight);
  }
  if (!m.config.tie_word_embeddings) count(m.weights.lm_head);
  m.stored_dtypes["F32"] = m.parameter_count() - reduced;
  if (reduced > 0) m.stored_dtypes[m.weight_type == WeightType::f16 ? "F16" : "Q8_0"] = reduced;
  return m;
}

}  // namespace tinygpt
