// tiny-gpt positions: the positional vectors a model adds to its tokens, their norms and
// the cosine of every pair of positions, as text, JSON or heatmaps (SVG); with --compare,
// the sin/cos table of the same size beside them. The library computes the report and
// renders it (tinygpt/positions.h); this file turns flags into a request and writes.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdio>
#include <memory>

#include "common.h"
#include "output_files.h"
#include "tinygpt/positions.h"

namespace tinygpt::cli {
namespace {

// A picture that fits a page: the whole context of a small model, the start of a big one.
constexpr int kDefaultCount = 64;

struct PositionsOptions {
  ModelOptions model;
  std::optional<int> count;
  bool json = false;
  bool compare = false;
  std::string plot;
};

void run(const PositionsOptions& o) {
  refuse_output_over_model(o.plot, "--plot", o.model);  // before anything is read
  if (!o.plot.empty()) check_writable(o.plot);
  const Model model = load(o.model);
  const PositionsReport report =
      positions_report(model, o.count.value_or(std::min(kDefaultCount, model.config.n_ctx)), o.compare);
  const std::string out = o.json ? dump_json(positions_json(report)) + "\n" : positions_text(report);
  if (!o.plot.empty()) {
    write_together({{o.plot, positions_svg(report)}});
    spdlog::info("wrote {} ({} positions)", o.plot, report.model.vectors.size());
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
  std::fflush(stdout);
}

}  // namespace

void register_positions(CLI::App& app) {
  auto o = std::make_shared<PositionsOptions>();
  CLI::App* cmd = app.add_subcommand(
      "positions", "The positional vectors: learned rows of wpe or the sin/cos table, norms, cosine of positions");
  add_model_options(*cmd, o->model);
  cmd->add_option("--count", o->count,
                  "Positions 0..N-1 (default: " + std::to_string(kDefaultCount) + ", or n_ctx when smaller)")
      ->type_name("N")
      ->check(whole_number(1, INT32_MAX));
  cmd->add_flag("--json", o->json, "Print one JSON object: vectors, norms, the similarity matrix");
  cmd->add_flag("--compare", o->compare, "Add the sin/cos table of the same size, to set beside learned positions");
  cmd->add_option("--plot", o->plot,
                  "Write heatmaps to FILE.svg: the vectors (position x dimension) and the cosine of every pair "
                  "of positions, the sin/cos table's below with --compare")
      ->type_name("FILE.svg")
      ->check(non_empty_path());
  cmd->callback([o] { run(*o); });
}

}  // namespace tinygpt::cli
