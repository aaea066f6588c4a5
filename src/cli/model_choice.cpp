#include "model_choice.h"

#include <spdlog/spdlog.h>

#include <optional>

#include "model_path.h"
#include "tinygpt/coverage.h"
#include "tinygpt/error.h"
#include "utf8.h"

namespace tinygpt::cli {
namespace {

VocabularyCoverage coverage_of(const Tokenizer& tok, const std::vector<std::string>& inputs) {
  VocabularyCoverage total;
  for (const std::string& text : inputs) {
    const VocabularyCoverage c = vocabulary_coverage(tok, text);
    total.characters += c.characters;
    total.unknown += c.unknown;
    total.as_bytes += c.as_bytes;
  }
  return total;
}

bool has_text(const std::vector<std::string>& inputs) {
  for (const std::string& text : inputs)
    if (!text.empty()) return true;
  return false;
}

// The inputs as one quoted phrase for a message, cut short: a file's text can be long.
std::string quoted(const std::vector<std::string>& inputs) {
  std::string all;
  for (const std::string& text : inputs)
    if (!text.empty()) all += (all.empty() ? "" : " ") + text;
  constexpr std::size_t kShown = 40;
  if (all.size() > kShown) {
    std::size_t cut = kShown;
    while (cut > 0 && utf8::sequence_length(all, cut) == 0) --cut;  // not inside a character
    all = all.substr(0, cut) + "...";
  }
  std::string shown;
  for (const char c : utf8::sanitize(all)) shown += (c == '\n' || c == '\t') ? ' ' : c;
  return "\"" + shown + "\"";
}

struct Candidate {
  std::string name;
  Model model;
  VocabularyCoverage coverage;
};

std::optional<Candidate> try_candidate(const std::string& name, const ModelOptions& o,
                                       const std::vector<std::string>& inputs) {
  try {
    resolve_model_path(name);
  } catch (const Error&) {
    return std::nullopt;  // not installed here: not a choice
  }
  ModelOptions named = o;
  named.model = name;
  Model m = load(named);
  const VocabularyCoverage c = coverage_of(m.tokenizer, inputs);
  return Candidate{name, std::move(m), c};
}

// A shipped model other than `skip` that knows every character of the inputs, if any.
std::optional<std::string> covering_model(const ModelOptions& o, const std::vector<std::string>& inputs,
                                          const std::string& skip) {
  for (const char* name : kChoosableModels) {
    if (name == skip) continue;
    try {
      const std::optional<Candidate> c = try_candidate(name, o, inputs);
      if (c && c->coverage.missing() == 0) return c->name;
    } catch (const Error&) {
      // Over --max-params, say: it is no suggestion, and the message is about the -m model.
    }
  }
  return std::nullopt;
}

// The unknown token stands for every character the model lacks, so the model
// reads a text of nothing but <unk> as no text at all.
// `shown`: the inputs as messages name them.
void check_unknown(const ModelOptions& o, const Model& m, const std::vector<std::string>& inputs,
                   const std::string& shown) {
  const auto unk = m.tokenizer.unk_id();
  if (!unk) return;  // without one, encode() refuses a missing character itself
  const VocabularyCoverage c = coverage_of(m.tokenizer, inputs);
  if (c.unknown == 0) return;
  const std::string unk_name = m.tokenizer.token_text(*unk);
  if (c.unknown == c.characters) {
    const std::optional<std::string> other = covering_model(o, inputs, o.model);
    throw_input_error("model " + o.model + " knows none of the characters of " + shown + " (each would be " + unk_name +
                      ")" + (other ? "; " + *other + " reads it: -m " + *other : std::string()));
  }
  const std::optional<std::string> other = covering_model(o, inputs, o.model);
  spdlog::warn("{} of the {} characters of {} are not in the vocabulary of model {} and become {}{}", c.unknown,
               c.characters, shown, o.model, unk_name,
               other ? "; " + *other + " reads them all: -m " + *other : std::string());
}

std::string lacks(const Candidate& c) {
  return c.name + " lacks " + std::to_string(c.coverage.missing()) + " of its " +
         std::to_string(c.coverage.characters) + " characters";
}

// The candidate missing the fewest characters; ties go to the earlier (the default).
Model choose(const ModelOptions& o, const std::vector<std::string>& inputs, const std::string& shown) {
  std::optional<Candidate> best;
  std::string passed_over;  // the models not chosen that lack something, for the one line
  auto pass_over = [&](const Candidate& c) {
    if (c.coverage.missing() > 0) passed_over += (passed_over.empty() ? "" : ", ") + lacks(c);
  };
  for (const char* name : kChoosableModels) {
    std::optional<Candidate> c = try_candidate(name, o, inputs);
    if (!c) continue;
    if (!best) {
      best = std::move(c);
    } else if (c->coverage.missing() < best->coverage.missing()) {
      pass_over(*best);
      best = std::move(c);
    } else {
      pass_over(*c);
    }
    if (best->coverage.missing() == 0) break;  // no later model can do better
  }
  if (!best) return load(o);  // no shipped model installed: the default's own error
  spdlog::info("no -m given: using {} for {}{}", best->name, shown,
               passed_over.empty() ? "" : " (" + passed_over + ")");
  // The best there is may still lack a character ("月☃"): said as with -m.
  ModelOptions chosen = o;
  chosen.model = best->name;
  check_unknown(chosen, best->model, inputs, shown);
  return std::move(best->model);
}

}  // namespace

Model load_for(const ModelOptions& o, const std::vector<std::string>& inputs, const std::string& name) {
  if (!has_text(inputs)) return load(o);
  const std::string shown = name.empty() ? quoted(inputs) : name;
  if (o.model.empty()) return choose(o, inputs, shown);
  Model m = load(o);
  check_unknown(o, m, inputs, shown);
  return m;
}

}  // namespace tinygpt::cli
