#include "batch_request.h"

#include <cmath>
#include <random>

#include "json_scan.h"
#include "tinygpt/error.h"

namespace tinygpt::cli {

namespace {

[[noreturn]] void bad(const std::string& message) { throw_input_error(message); }

std::string type_of(const nlohmann::json& v) {
  const std::string name = v.type_name();
  return (name == "object" || name == "array" ? "an " : "a ") + name;
}

int whole(const nlohmann::json& v, const std::string& key) {
  // An unsigned value above 2^63 would wrap if read as signed: check each kind in its own type.
  const bool fits = v.is_number_unsigned()  ? v.get<std::uint64_t>() <= INT32_MAX
                    : v.is_number_integer() ? v.get<std::int64_t>() >= INT32_MIN && v.get<std::int64_t>() <= INT32_MAX
                                            : false;
  if (!fits) bad("\"" + key + "\" must be a whole number that fits 32 bits, got " + v.dump());
  return v.get<int>();
}

float real(const nlohmann::json& v, const std::string& key) {
  if (!v.is_number()) bad("\"" + key + "\" must be a number, got " + type_of(v));
  const double d = v.get<double>();
  const auto f = static_cast<float>(d);
  if (std::isinf(f) || (f == 0 && d != 0)) bad("\"" + key + "\" = " + v.dump() + " does not fit a float");
  return f;
}

// Where a line's numeric override goes (null: the key is not a whole-number, or a real, one).
int* whole_field(GenerateParams& p, const std::string& key) {
  if (key == "max_new_tokens") return &p.max_new_tokens;
  if (key == "top_k") return &p.sampler.top_k;
  if (key == "repeat_last_n") return &p.penalties.repeat_last_n;
  return nullptr;
}

float* real_field(GenerateParams& p, const std::string& key) {
  if (key == "temperature") return &p.sampler.temperature;
  if (key == "top_p") return &p.sampler.top_p;
  if (key == "min_p") return &p.sampler.min_p;
  if (key == "repeat_penalty") return &p.penalties.repeat_penalty;
  if (key == "frequency_penalty") return &p.penalties.frequency_penalty;
  if (key == "presence_penalty") return &p.penalties.presence_penalty;
  return nullptr;
}

}  // namespace

BatchRequest parse_request(std::string_view text, std::size_t line, const GenerateParams& defaults,
                           std::optional<std::uint64_t> seed, nlohmann::json& partial_id) {
  nlohmann::json j;
  try {
    j = parse_json_unique_keys(text, "the line");
  } catch (const nlohmann::json::exception& e) {
    std::string what = e.what();
    if (const auto at = what.find("] "); at != std::string::npos) what = what.substr(at + 2);  // "[json.exception..] "
    bad("malformed JSON: " + what);
  }
  if (!j.is_object()) bad("a line must be a JSON object {\"id\", \"prompt\", ...}, got " + type_of(j));
  if (j.contains("id")) partial_id = j["id"];
  BatchRequest r;
  r.line = line;
  r.id = partial_id;
  r.params = defaults;
  bool has_seed = false;
  for (const auto& [key, v] : j.items()) {
    if (key == "id") continue;
    if (key == "prompt") {
      if (!v.is_string()) bad("\"prompt\" must be a string, got " + type_of(v));
      r.prompt = v.get<std::string>();
    } else if (int* field = whole_field(r.params, key)) {
      *field = whole(v, key);
    } else if (float* field = real_field(r.params, key)) {
      *field = real(v, key);
    } else if (key == "seed") {
      if (!v.is_number_unsigned()) bad("\"seed\" must be a whole number >= 0, got " + v.dump());
      r.params.seed = v.get<std::uint64_t>();
      has_seed = true;
    } else if (key == "stop") {
      // One string or a list of them, as in the OpenAI API.
      r.params.stop.clear();
      const nlohmann::json list = v.is_array() ? v : nlohmann::json::array({v});
      for (const auto& s : list) {
        if (!s.is_string()) bad("\"stop\" must be a string or a list of strings, got " + type_of(s));
        r.params.stop.push_back(s.get<std::string>());
      }
    } else {
      bad("unknown key \"" + key + "\" (a line holds id, prompt, max_new_tokens, temperature, top_k, top_p, " +
          "min_p, repeat_penalty, repeat_last_n, frequency_penalty, presence_penalty, seed, stop)");
    }
  }
  if (!j.contains("prompt")) bad("the line has no \"prompt\"");
  if (!has_seed) r.params.seed = seed ? *seed : std::random_device{}();
  try {
    validate(r.params);
  } catch (const Error& e) {
    bad(e.what());  // named as the JSON key: the parameter's own name, not a flag
  }
  return r;
}

}  // namespace tinygpt::cli
