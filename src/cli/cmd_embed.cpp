// tiny-gpt embed WORD: the word's rows of the embedding table, its nearest tokens, cosine
// similarity, analogies, a 2-D PCA map (SVG) and exports for the Embedding Projector and
// word2vec tools. The library computes one EmbeddingReport and renders it
// (tinygpt/embedding.h); this file turns flags into a request, logs the notes, and writes
// the outputs only once all of them are ready.
#include <spdlog/spdlog.h>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include "common.h"
#include "model_choice.h"
#include "output_files.h"
#include "tinygpt/embedding.h"
#include "tinygpt/error.h"
#include "utf8.h"

namespace tinygpt::cli {
namespace {

namespace fs = std::filesystem;

struct EmbedOptions {
  ModelOptions model;
  std::vector<std::string> words;
  std::optional<int> position;
  std::optional<std::size_t> neighbors;
  std::optional<std::string> similarity;
  std::optional<std::string> analogy;
  std::string plot;
  std::size_t plot_neighbors = 0;
  std::string export_dir;
  bool json = false;
  bool no_vectors = false;
  bool exact = false;
  bool all_tokens = false;
};

// Flags that contradict each other are usage errors before the model is read.
void check_flags(const EmbedOptions& o) {
  const bool plotting = !o.plot.empty();
  if (o.words.empty() && !o.analogy && o.export_dir.empty())
    throw_usage_error("embed: give a WORD (or --analogy \"A - B + C\", or --export DIR)");
  if (o.words.size() > 1 && !plotting)
    throw_usage_error("embed: " + std::to_string(o.words.size()) +
                      " words given; only --plot takes several (the other flags describe one WORD)");
  if (o.words.size() > 1 && (o.position || o.neighbors || o.similarity))
    throw_usage_error(
        "embed: --position, --neighbors and --similarity describe one WORD; with --plot and several "
        "words, use --plot-neighbors K");
  if (plotting && o.words.empty()) throw_usage_error("--plot: give the words to map");
  if (o.plot_neighbors > 0 && !plotting) throw_usage_error("--plot-neighbors: only with --plot FILE.svg");
  const std::set<std::string> distinct(o.words.begin(), o.words.end());
  if (plotting && distinct.size() < 2 && o.plot_neighbors == 0)
    throw_usage_error("--plot needs at least 2 points: give several words, or add --plot-neighbors K");
  if (o.analogy) parse_analogy(*o.analogy);  // its own errors, before the model is read too
}

EmbeddingRequest request_from(const EmbedOptions& o) {
  return {.words = o.words,
          .position = o.position,
          .neighbors = o.neighbors,
          .similarity = o.similarity,
          .analogy = o.analogy,
          .plot = !o.plot.empty(),
          .plot_neighbors = o.plot_neighbors,
          .export_table = !o.export_dir.empty(),
          .exact = o.exact,
          .all_tokens = o.all_tokens};
}

std::string quoted(const std::string& s) { return "\"" + utf8::sanitize(s) + "\""; }

// Say when a word was looked up with its leading space, so the rows shown are not a surprise.
void note_form(const EmbeddedWord& w) {
  if (w.looked_up == w.word) return;
  spdlog::info("{} looked up as {}: one token, as the word stands inside a sentence (--exact: as typed)",
               quoted(w.word), quoted(w.looked_up));
}

// Say when the word would be fewer tokens with its leading space, as in running text.
void hint_leading_space(const EmbeddedWord& w) {
  if (w.spaced_pieces.empty()) return;
  std::string pieces;
  for (const std::string& p : w.spaced_pieces) pieces += (pieces.empty() ? "" : " ") + p;
  const std::size_t n = w.spaced_pieces.size();
  spdlog::info("in running text a word usually follows a space: \" {}\" is {} token{} ({}); try embed \" {}\"",
               utf8::sanitize(w.word), n, n == 1 ? "" : "s", pieces, utf8::sanitize(w.word));
}

// In the order the words were read: the words, the similarity's other word, the analogy's
// terms. Characters the vocabulary lacks were reported before the model was used (load_for).
void log_notes(const EmbeddingReport& r) {
  for (const EmbeddedWord& w : r.words) note_form(w);
  if (r.one_word) hint_leading_space(r.words[0]);
  if (r.similarity) note_form(r.similarity->other);
  if (r.analogy)
    for (const EmbeddedWord& t : r.analogy->terms) note_form(t);
}

// Every text the command encodes, for the model's choice and the unknown-token check.
std::vector<std::string> input_texts(const EmbedOptions& o) {
  std::vector<std::string> texts = o.words;
  if (o.similarity) texts.push_back(*o.similarity);
  if (o.analogy)
    for (const AnalogyTerm& t : parse_analogy(*o.analogy)) texts.push_back(t.word);
  return texts;
}

// The export directory is created when missing, but not its parents (as mkdir does), so a
// mistyped path fails instead of growing a tree somewhere unexpected. Returns whether it
// has to be created.
bool check_export_dir(const std::string& dir) {
  std::error_code ec;
  const fs::path d(dir);
  if (fs::is_directory(d, ec)) return false;
  if (fs::exists(d, ec)) throw_io_error("cannot export to " + dir + ": it exists and is not a directory");
  const fs::path parent = d.has_parent_path() ? d.parent_path() : fs::path(".");
  if (!fs::is_directory(parent, ec))
    throw_io_error("cannot export to " + dir + ": the directory " + parent.string() + " does not exist");
  return true;
}

// The map and the export files, all rendered before any is written.
std::vector<OutputFile> output_files(const EmbeddingReport& r, const EmbedOptions& o) {
  std::vector<OutputFile> files;
  if (r.plot) files.push_back({o.plot, embedding_map_svg(r)});
  if (r.table)
    for (NamedFile& f : embedding_export_files(r)) {
      files.push_back({(fs::path(o.export_dir) / f.name).string(), std::move(f.content)});
      refuse_output_over_model(files.back().path, "--export", o.model);  // nothing is written yet
    }
  return files;
}

// Every destination is checked before anything is written, and the files are renamed into
// place together (write_together): a failure leaves the old files, never a mix of old and new.
void write_outputs(const EmbeddingReport& r, const EmbedOptions& o, const std::vector<OutputFile>& files) {
  if (r.plot) check_writable(o.plot);  // before the export directory is made
  const bool create = r.table && check_export_dir(o.export_dir);
  std::error_code ec;
  if (create && !fs::create_directory(o.export_dir, ec) && ec)
    throw_io_error("cannot create the directory " + o.export_dir + ": " + ec.message());
  try {
    write_together(files);
  } catch (...) {
    if (create) fs::remove(o.export_dir, ec);  // the empty directory we made
    throw;
  }
  if (r.plot) spdlog::info("wrote {} ({} points)", o.plot, r.plot->points.size());
}

void run(const EmbedOptions& o) {
  check_flags(o);
  refuse_output_over_model(o.plot, "--plot", o.model);  // before anything is read or computed
  const Model model = load_for(o.model, input_texts(o));
  const EmbeddingReport report = embedding_report(model, request_from(o));
  log_notes(report);
  const EmbeddingOutputs outputs{o.plot, o.export_dir};
  const std::string out =
      o.json ? dump_json(embedding_json(report, outputs)) + "\n" : embedding_text(report, outputs, !o.no_vectors);
  write_outputs(report, o, output_files(report, o));
  std::fwrite(out.data(), 1, out.size(), stdout);
  std::fflush(stdout);
}

}  // namespace

void register_embed(CLI::App& app) {
  auto o = std::make_shared<EmbedOptions>();
  CLI::App* cmd = app.add_subcommand(
      "embed", "Look at the embedding table: a word's vectors, nearest tokens, similarity, analogies, a PCA map");
  cmd->add_option("word", o->words,
                  "The word to look at (several with --plot). A word is what the vocabulary holds as one: a "
                  "character for a char model; for a byte-level BPE model (GPT-2 style) the word as it stands "
                  "inside a sentence, with its leading space (\"king\" is looked up as \" king\" when that is "
                  "one token; --exact takes it as typed). Its tokens are the text's own, no "
                  "bos; a word of several tokens is queried with the mean of their rows")
      ->type_name("WORD");
  add_model_options(*cmd, o->model);
  cmd->add_option("--position", o->position,
                  "Also show the positional vector at position P (learned row of wpe, or the sinusoid) and the sum "
                  "wte + wpe the first block receives; a word of n tokens occupies P..P+n-1")
      ->type_name("P")
      ->check(whole_number(0, INT32_MAX));
  cmd->add_option("--neighbors", o->neighbors,
                  "The K nearest tokens by cosine similarity (ties: lower id first), leaving out the word's own "
                  "tokens and special tokens; also the number of --analogy results (default 10)")
      ->type_name("K")
      ->check(whole_number(1));
  cmd->add_option("--similarity", o->similarity,
                  "Cosine similarity of WORD with OTHER (0 when either is a zero vector)")
      ->type_name("OTHER");
  cmd->add_option("--analogy", o->analogy,
                  "Nearest tokens to A - B + C by 3CosAdd as gensim's most_similar(positive=[A, C], "
                  "negative=[B]), leaving out A, B and C; each term is a word as for WORD (\"king - man + woman\"), "
                  "or quoted to hold spaces: '\" king\" - \" man\"'")
      ->type_name("\"A - B + C\"");
  cmd->add_option("--plot", o->plot, "Write a 2-D PCA map of the words as an SVG scatter plot to FILE.svg")
      ->type_name("FILE.svg")
      ->check(non_empty_path());
  cmd->add_option("--plot-neighbors", o->plot_neighbors, "With --plot: add each word's K nearest tokens to the map")
      ->type_name("K")
      ->check(whole_number(1));
  cmd->add_option("--export", o->export_dir,
                  "Write the whole table to DIR: vectors.tsv + metadata.tsv (TensorFlow Embedding Projector) and "
                  "word2vec.txt (word2vec text format; tokens as shown by `tokenize`, e.g. space as ·). DIR is "
                  "created if missing (its parent must exist)")
      ->type_name("DIR")
      ->check(non_empty_path());
  cmd->add_flag("--exact", o->exact,
                "Look WORD, OTHER and the analogy's terms up exactly as typed (no leading space added)");
  cmd->add_flag("--all-tokens", o->all_tokens,
                "Neighbours and analogy results among all tokens; by default a byte-level BPE model's are whole "
                "words only (a token that starts a word, with its space, and is letters: \" queen\", not \"en\" "
                "or \",\")");
  cmd->add_flag("--no-vectors", o->no_vectors,
                "Text output without the rows of numbers (ids, tokens and norms stay; --json always has them)");
  cmd->add_flag("--json", o->json, "Print one JSON object");
  cmd->callback([o] { run(*o); });
}

}  // namespace tinygpt::cli
