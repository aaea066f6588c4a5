#include "architecture.h"

#include <bit>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>

#include "json_scan.h"
#include "positional.h"
#include "quantize.h"
#include "tinygpt/error.h"

namespace tinygpt {

using u128 = unsigned __int128;

u128 stored_parameters(const Config& c) {
  const u128 V = c.vocab_size, C = c.n_ctx, D = c.n_embd, F = c.n_inner, L = c.n_layer;
  const u128 per_layer = 4 * D + (D * 3 * D + 3 * D) + (D * D + D) + (D * F + F) + (F * D + D);
  return V * D * (c.tie_word_embeddings ? 1 : 2) + (c.positional == Positional::learned ? C * D : 0) + L * per_layer +
         2 * D;
}

// The loader refuses any tensor whose shape differs from what the config implies, so the
// config alone gives the count (a computed sinusoid table is not a parameter).
std::uint64_t Model::parameter_count() const { return static_cast<std::uint64_t>(stored_parameters(config)); }

bool is_reducible(std::string_view name) { return is_conv1d(name) || name == "lm_head.weight"; }

const Matrix* reduced_tensor(const Model& m, std::string_view name) {
  if (!is_reducible(name)) return nullptr;
  const Weights& w = m.weights;
  const Matrix* t = nullptr;
  if (name == "lm_head.weight") {
    if (!m.config.tie_word_embeddings) t = &w.lm_head;
  } else {
    // "h.<i>.attn.c_attn.weight" and the like
    const std::size_t dot = name.find('.', 2);
    const auto i = static_cast<std::size_t>(std::stoul(std::string(name.substr(2, dot - 2))));
    if (i >= w.layers.size()) return nullptr;
    const LayerWeights& l = w.layers[i];
    t = name.ends_with("attn.c_attn.weight")   ? &l.attn_weight
        : name.ends_with("attn.c_proj.weight") ? &l.attn_proj_weight
        : name.ends_with("mlp.c_fc.weight")    ? &l.fc_weight
                                               : &l.mlp_proj_weight;
  }
  return t && t->type != WeightType::f32 ? t : nullptr;
}

bool is_conv1d(std::string_view name) {
  auto ends = [&](std::string_view suffix) { return name.size() > suffix.size() && name.ends_with(suffix); };
  return ends(".attn.c_attn.weight") || ends(".attn.c_proj.weight") || ends(".mlp.c_fc.weight") ||
         ends(".mlp.c_proj.weight");
}

std::string shape_text(const std::vector<std::int64_t>& shape) {
  std::string s = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

namespace {

// A file asks for more than a limit of LoadOptions allows; the message names the field.
[[noreturn]] void throw_limit_error(const std::string& field, const std::string& message) {
  throw Error(ErrorKind::model, message, field);
}

}  // namespace

Config parse_config(const nlohmann::json& j, const std::string& where, const LoadOptions& options) {
  if (!j.is_object()) throw_model_error(where + ": \"config\" must be an object");
  static const std::set<std::string> known = {"vocab_size",
                                              "n_ctx",
                                              "n_embd",
                                              "n_head",
                                              "n_layer",
                                              "n_inner",
                                              "positional",
                                              "activation",
                                              "layer_norm_epsilon",
                                              "tie_word_embeddings"};
  std::vector<std::string> unknown;
  for (const auto& [key, value] : j.items())
    if (!known.contains(key)) unknown.push_back(key);
  if (!unknown.empty() && options.on_warning) options.on_warning(unknown_fields_warning(where, "config", unknown));

  auto integer = [&](const char* key, std::optional<int> fallback) -> int {
    const auto it = j.find(key);
    if (it == j.end() || it->is_null()) {
      if (fallback) return *fallback;
      throw_model_error(where + ": config." + key + " is missing");
    }
    if (!it->is_number_integer())
      throw_model_error(where + ": config." + key + " must be an integer, found " + it->dump());
    // Unsigned first: 2^64-1 read as int64 would be -1.
    const bool too_big =
        it->is_number_unsigned() ? it->get<std::uint64_t>() > 0x7fffffff : it->get<std::int64_t>() > 0x7fffffff;
    if (too_big || it->get<std::int64_t>() < 1)
      throw_model_error(where + ": config." + key + " = " + it->dump() + " is out of range (must be 1 to 2147483647)");
    return static_cast<int>(it->get<std::int64_t>());
  };
  auto choice = [&](const char* key, const char* fallback, std::initializer_list<const char*> allowed) -> std::string {
    const auto it = j.find(key);
    if (it == j.end() || it->is_null()) return fallback;
    std::string options;
    for (const char* a : allowed) options += std::string(options.empty() ? "" : ", ") + "\"" + a + "\"";
    if (!it->is_string()) throw_model_error(where + ": config." + key + " must be one of " + options);
    const auto& v = it->get_ref<const std::string&>();
    for (const char* a : allowed)
      if (v == a) return v;
    throw_model_error(where + ": config." + key + " = \"" + v + "\" is not one of " + options);
  };

  Config c;
  c.vocab_size = integer("vocab_size", std::nullopt);
  c.n_ctx = integer("n_ctx", std::nullopt);
  c.n_embd = integer("n_embd", std::nullopt);
  c.n_head = integer("n_head", std::nullopt);
  c.n_layer = integer("n_layer", std::nullopt);
  if (c.n_embd % c.n_head != 0)
    throw_model_error(where + ": config.n_embd = " + std::to_string(c.n_embd) +
                      " is not divisible by config.n_head = " + std::to_string(c.n_head));
  if (c.n_ctx > options.max_ctx)
    throw_limit_error("max_ctx", where + ": config.n_ctx = " + std::to_string(c.n_ctx) + " exceeds the limit of " +
                                     std::to_string(options.max_ctx) + " (raise it with max_ctx)");
  const std::int64_t default_inner = 4LL * c.n_embd;
  c.n_inner = integer("n_inner", default_inner > 0x7fffffff ? 0x7fffffff : static_cast<int>(default_inner));
  c.positional = choice("positional", "learned", {"learned", "sinusoidal"}) == "learned" ? Positional::learned
                                                                                         : Positional::sinusoidal;
  const std::string act = choice("activation", "gelu_tanh", {"gelu_tanh", "gelu", "relu"});
  c.activation = act == "gelu_tanh" ? Activation::gelu_tanh : act == "gelu" ? Activation::gelu : Activation::relu;
  if (const auto it = j.find("layer_norm_epsilon"); it != j.end() && !it->is_null()) {
    if (!it->is_number() || !(it->get<double>() > 0) || !std::isfinite(it->get<double>()))
      throw_model_error(where + ": config.layer_norm_epsilon must be a positive number, found " + it->dump());
    c.layer_norm_epsilon = static_cast<float>(it->get<double>());
    // The layer norms run in float32: 1e39 would be inf there and 1e-50 would be 0, which
    // turns an all-zero row into NaN.
    if (c.layer_norm_epsilon == 0 || !std::isfinite(c.layer_norm_epsilon))
      throw_model_error(where + ": config.layer_norm_epsilon = " + it->dump() + " does not fit float32 (it would be " +
                        (c.layer_norm_epsilon == 0 ? "0" : "infinite") + ")");
  }
  if (const auto it = j.find("tie_word_embeddings"); it != j.end() && !it->is_null()) {
    if (!it->is_boolean())
      throw_model_error(where + ": config.tie_word_embeddings must be true or false, found " + it->dump());
    c.tie_word_embeddings = it->get<bool>();
  }

  const u128 total = stored_parameters(c);
  const u128 kv_cache = 2 * static_cast<u128>(c.n_layer) * static_cast<u128>(c.n_ctx) * static_cast<u128>(c.n_embd);
  if (total > options.max_parameters || kv_cache > 4 * static_cast<u128>(options.max_parameters))
    throw_limit_error("max_parameters", where + ": the config describes a model larger than the limit of " +
                                            std::to_string(options.max_parameters) +
                                            " parameters (raise it with max_parameters)");
  return c;
}

Model assemble_model(const Config& c, Tokenizer tokenizer, const NamedTensors& tensors, WeightStore store,
                     const std::string& where) {
  Model m;
  m.path = where;
  m.config = c;
  m.tokenizer = std::move(tokenizer);
  const std::int64_t V = c.vocab_size, C = c.n_ctx, D = c.n_embd, F = c.n_inner;

  std::set<std::string> used;
  auto take = [&](const std::string& name, std::vector<std::int64_t> shape) -> std::span<const float> {
    const auto it = tensors.find(name);
    if (it == tensors.end())
      throw_model_error(where + ": missing tensor " + name + " (shape " + shape_text(shape) + ")");
    if (it->second.shape != shape)
      throw_model_error(where + ": wrong shape for " + name + ": got " + shape_text(it->second.shape) + ", expected " +
                        shape_text(shape));
    used.insert(name);
    return it->second.values;
  };
  auto vec = [&](const std::string& name, std::int64_t n) { return take(name, {n}); };
  // A matrix of `rows` outputs by `cols` inputs, float32 or reduced as the file stored it.
  auto matrix = [&](const std::string& name, std::vector<std::int64_t> shape, std::int64_t rows, std::int64_t cols) {
    Matrix m{static_cast<int>(rows), static_cast<int>(cols), take(name, std::move(shape))};
    const NamedTensor& t = tensors.at(name);
    m.type = t.type;
    m.packed = t.packed;
    m.layout = t.layout;
    return m;
  };
  // Conv1D [in][out] in the file, kept as [out][in].
  auto linear = [&](const std::string& name, std::int64_t in, std::int64_t out) {
    return matrix(name, {in, out}, out, in);
  };
  auto table = [&](const std::string& name, std::int64_t rows, std::int64_t cols) {
    return matrix(name, {rows, cols}, rows, cols);
  };

  Weights& w = m.weights;
  w.wte = table("wte.weight", V, D);
  if (c.positional == Positional::learned) w.wpe = table("wpe.weight", C, D);
  for (int i = 0; i < c.n_layer; ++i) {
    const std::string p = "h." + std::to_string(i) + ".";
    LayerWeights l;
    l.ln_1_weight = vec(p + "ln_1.weight", D);
    l.ln_1_bias = vec(p + "ln_1.bias", D);
    l.attn_weight = linear(p + "attn.c_attn.weight", D, 3 * D);
    l.attn_bias = vec(p + "attn.c_attn.bias", 3 * D);
    l.attn_proj_weight = linear(p + "attn.c_proj.weight", D, D);
    l.attn_proj_bias = vec(p + "attn.c_proj.bias", D);
    l.ln_2_weight = vec(p + "ln_2.weight", D);
    l.ln_2_bias = vec(p + "ln_2.bias", D);
    l.fc_weight = linear(p + "mlp.c_fc.weight", D, F);
    l.fc_bias = vec(p + "mlp.c_fc.bias", F);
    l.mlp_proj_weight = linear(p + "mlp.c_proj.weight", F, D);
    l.mlp_proj_bias = vec(p + "mlp.c_proj.bias", D);
    w.layers.push_back(std::move(l));
  }
  w.ln_f_weight = vec("ln_f.weight", D);
  w.ln_f_bias = vec("ln_f.bias", D);
  if (!c.tie_word_embeddings) w.lm_head = table("lm_head.weight", V, D);

  for (const auto& [name, t] : tensors) {
    if (used.contains(name)) continue;
    if (name == "lm_head.weight")
      throw_model_error(where + ": tensor lm_head.weight is present but config.tie_word_embeddings is true");
    if (name == "wpe.weight")
      throw_model_error(where + ": tensor wpe.weight is present but config.positional is \"sinusoidal\"");
    throw_model_error(where + ": unknown tensor " + name + " (the config does not call for it)");
  }
  // Reduced tensors (a quantized weights JSON): all of one type, and all or none of the
  // reducible ones, so that the model runs in one type; a tied model's output projection
  // is then reduced from wte here, as reduce_weights would.
  std::optional<WeightType> reduced;
  for (const auto& [name, t] : tensors) {
    if (t.type == WeightType::f32) continue;
    if (reduced && *reduced != t.type)
      throw_model_error(where + ": tensor " + name + " is " + to_string(t.type) + " but other tensors are " +
                        to_string(*reduced) + " (a model runs in one weight type)");
    reduced = t.type;
  }
  if (reduced)
    for (const auto& [name, t] : tensors)
      if (is_reducible(name) && t.type == WeightType::f32)
        throw_model_error(where + ": tensor " + name + " is f32 but the other linear weights are " +
                          to_string(*reduced) + " (a model runs in one weight type)");
  // Built last: its size comes from the config alone (n_ctx x n_embd), so a file must
  // first prove itself with every tensor before we spend memory and time on it.
  if (c.positional == Positional::sinusoidal) {
    const std::span<float> table = store.take(static_cast<std::size_t>(C) * static_cast<std::size_t>(D));
    sinusoidal_table(table, c.n_ctx, c.n_embd);
    w.wpe = Matrix{c.n_ctx, c.n_embd, table};
  }
  m.store = std::move(store);
  if (reduced) {
    m.weight_type = WeightType::f32;  // what reduce_weights starts from: it keeps the reduced tensors as they are
    reduce_weights(m, *reduced);
  }
  return m;
}

void for_each_tensor(const Model& m, const TensorVisitor& visit) {
  const Config& c = m.config;
  const Weights& w = m.weights;
  // A reduced matrix (weight_type.h) is written as the float32 values it stands for.
  std::vector<float> expanded;
  auto values_of = [&](const Matrix& t) -> std::span<const float> {
    if (t.type == WeightType::f32) return t.data;
    const auto rows = static_cast<std::size_t>(t.rows), cols = static_cast<std::size_t>(t.cols);
    expanded.resize(rows * cols);
    const std::size_t per_row = row_bytes(t.type, cols);
    for (std::size_t r = 0; r < rows; ++r)
      dequantize_row(t.type, t.packed.data() + r * per_row, t.cols, expanded.data() + r * cols);
    return expanded;
  };
  auto table = [&](const std::string& name, const Matrix& t) { visit(name, {t.rows, t.cols}, values_of(t)); };
  auto vec = [&](const std::string& name, Vector v) { visit(name, {static_cast<std::int64_t>(v.size())}, v); };
  std::vector<float> in_out;  // a Conv1D weight turned back to [in][out]
  auto linear = [&](const std::string& name, const Matrix& t) {
    if (t.type == WeightType::f32 && t.layout == Layout::in_out) {  // already the file's layout
      visit(name, {t.cols, t.rows}, t.data);
      return;
    }
    const std::span<const float> v = values_of(t);
    in_out.resize(v.size());
    const auto rows = static_cast<std::size_t>(t.rows), cols = static_cast<std::size_t>(t.cols);
    for (std::size_t o = 0; o < rows; ++o)
      for (std::size_t i = 0; i < cols; ++i) in_out[i * rows + o] = v[o * cols + i];
    visit(name, {t.cols, t.rows}, in_out);
  };
  table("wte.weight", w.wte);
  if (c.positional == Positional::learned) table("wpe.weight", w.wpe);
  for (std::size_t i = 0; i < w.layers.size(); ++i) {
    const std::string p = "h." + std::to_string(i) + ".";
    const LayerWeights& l = w.layers[i];
    vec(p + "ln_1.weight", l.ln_1_weight);
    vec(p + "ln_1.bias", l.ln_1_bias);
    linear(p + "attn.c_attn.weight", l.attn_weight);
    vec(p + "attn.c_attn.bias", l.attn_bias);
    linear(p + "attn.c_proj.weight", l.attn_proj_weight);
    vec(p + "attn.c_proj.bias", l.attn_proj_bias);
    vec(p + "ln_2.weight", l.ln_2_weight);
    vec(p + "ln_2.bias", l.ln_2_bias);
    linear(p + "mlp.c_fc.weight", l.fc_weight);
    vec(p + "mlp.c_fc.bias", l.fc_bias);
    linear(p + "mlp.c_proj.weight", l.mlp_proj_weight);
    vec(p + "mlp.c_proj.bias", l.mlp_proj_bias);
  }
  vec("ln_f.weight", w.ln_f_weight);
  vec("ln_f.bias", w.ln_f_bias);
  if (!c.tie_word_embeddings) table("lm_head.weight", w.lm_head);
}

void check_tensor_finite(std::span<const float> values, const std::string& name, const std::string& where) {
  std::uint32_t non_finite = 0;  // all-ones exponent: inf or NaN; branch-free so that it vectorises
  for (float v : values) non_finite |= (std::bit_cast<std::uint32_t>(v) & 0x7f800000u) == 0x7f800000u;
  if (!non_finite) return;
  for (std::size_t i = 0; i < values.size(); ++i)
    if (!std::isfinite(values[i]))
      throw_model_error(where + ": tensor " + name + ": value " + std::to_string(i) + " is not finite (" +
                        std::to_string(values[i]) + ")");
}

void check_weights_finite(const Model& m) {
  for_each_tensor(m, [&](const std::string& name, const std::vector<std::int64_t>&, std::span<const float> values) {
    check_tensor_finite(values, name, m.path);
  });
}

nlohmann::ordered_json shortest_float_json(float value) {
  char text[32];
  const auto end = std::to_chars(text, text + sizeof text, value).ptr;
  *end = '\0';
  // The double nearest that decimal prints as the same decimal and reads back as `value`.
  return std::strtod(text, nullptr);
}

nlohmann::ordered_json config_json(const Config& c) {
  nlohmann::ordered_json j;
  j["vocab_size"] = c.vocab_size;
  j["n_ctx"] = c.n_ctx;
  j["n_embd"] = c.n_embd;
  j["n_head"] = c.n_head;
  j["n_layer"] = c.n_layer;
  j["n_inner"] = c.n_inner;
  j["positional"] = c.positional == Positional::learned ? "learned" : "sinusoidal";
  j["activation"] = c.activation == Activation::gelu_tanh ? "gelu_tanh"
                    : c.activation == Activation::gelu    ? "gelu"
                                                          : "relu";
  j["layer_norm_epsilon"] = shortest_float_json(c.layer_norm_epsilon);
  j["tie_word_embeddings"] = c.tie_word_embeddings;
  return j;
}

}  // namespace tinygpt
