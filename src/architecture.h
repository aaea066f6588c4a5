#pragma once
// The GPT-2 architecture as tiny-gpt runs it, apart from any file format: what a config
// means, which tensors a config calls for (GPT-2's names and shapes), and how a set of
// named tensors becomes a Model. A file format reads a config and tensors by name and
// hands them here, so a second format reuses this half unchanged.
#include <cstdint>
#include <functional>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "tinygpt/load.h"
#include "tinygpt/model.h"

namespace tinygpt {

// Parameters a config calls for, in 128 bits: a hostile config can overflow 64.
unsigned __int128 stored_parameters(const Config& c);

// Reads and checks a config object (the weights JSON's "config"): every field's type
// and range, n_embd divisible by n_head, and the size limits of `options`. Unknown
// fields are reported through options.on_warning. `where` names the file in messages.
Config parse_config(const nlohmann::json& j, const std::string& where, const LoadOptions& options);

// Whether a tensor is one of GPT-2's Conv1D weights, stored [in][out] in files and kept
// [out][in] in memory when a loader copies it (Layout::out_in, model.h), or used where it
// lies in a memory-mapped file (Layout::in_out).
bool is_conv1d(std::string_view name);

// A tensor read from a file: its shape as the file gives it, its values as the Model
// keeps them, owned by the WeightStore passed on or by a mapping it keeps alive. A Conv1D
// weight's values are [out][in] (copied and transposed) unless `layout` is in_out (the
// file's [in][out], used in place).
// A reduced tensor (a weights JSON of version 2, weight_type.h) has `type` f16 or q8_0 and
// its bytes in `packed`, rows of the [out][in] matrix as the Model keeps them, `values` empty.
struct NamedTensor {
  std::vector<std::int64_t> shape;
  std::span<const float> values;
  WeightType type = WeightType::f32;
  std::span<const std::uint8_t> packed;
  Layout layout = Layout::out_in;
};
using NamedTensors = std::map<std::string, NamedTensor>;

// "[3, 4]"
std::string shape_text(const std::vector<std::int64_t>& shape);

// Builds the Model: every tensor the config calls for must be present with its shape,
// and no other tensor may be there. `store` owns the tensors' values and moves into the
// Model; a sinusoidal position table is computed into it last. Throws Error(model)
// naming the tensor ("wrong shape for h.0.ln_1.weight: got [..], expected [..]").
// The inverse of assemble_model, for writers: each tensor the Model holds, by GPT-2 name, in
// the file's shape and layout (Conv1D weights back to [in][out]), in the order of
// docs/weights-format.md's table. A sinusoidal model's position table is computed from the
// config, not stored, so it is not among them.
using TensorVisitor =
    std::function<void(const std::string& name, const std::vector<std::int64_t>& shape, std::span<const float> values)>;
void for_each_tensor(const Model& m, const TensorVisitor& visit);

// Throws Error(model) "WHERE: tensor NAME: value I is not finite (nan)" for the first inf
// or NaN among `values` (I counts in the file's layout).
void check_tensor_finite(std::span<const float> values, const std::string& name, const std::string& where);

// check_tensor_finite over every tensor of `m`, in for_each_tensor's order. Loaders check
// what they copy; float32 used in place from a memory map is not read at load, so the
// forward pass calls this when its activations stop being finite, to name a weight that
// was inf or NaN in the file.
void check_weights_finite(const Model& m);

// Whether a tensor may be stored reduced (weight_type.h): the four matrices of a block and
// lm_head.
bool is_reducible(std::string_view name);

// The reduced matrix a Model keeps for `name` (a reducible tensor), or null when it is float32.
const Matrix* reduced_tensor(const Model& m, std::string_view name);

// The weights JSON's "config" object for `c`, every field written out (none left to its
// default), in the order of docs/weights-format.md; parse_config reads it back to `c`.
nlohmann::ordered_json config_json(const Config& c);

// A float32 as the shortest decimal that reads back to the same float (1e-05, not
// 9.999999747378752e-06), as a JSON number.
nlohmann::ordered_json shortest_float_json(float value);

Model assemble_model(const Config& config, Tokenizer tokenizer, const NamedTensors& tensors, WeightStore store,
                     const std::string& where);

}  // namespace tinygpt
