// Where a model's load time goes (not a test): the whole load_model() next to its
// tokenizer alone, so that a memory-mapped checkpoint's weights can be told apart from the
// text files that come with it.
//
//   load-bench MODEL [REPS]
//
// MODEL is anything -m takes. For a checkpoint folder with vocab.json + merges.txt the
// tokenizer is also loaded alone from them (Tokenizer::from_gpt2_files), and the rest
// (config, safetensors header, weights, checks) is the difference of the medians.
// Each repetition loads from scratch; the files are in the page cache after the first.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "tinygpt/tinygpt.h"

namespace {

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

template <class Fn>
double seconds(Fn&& fn) {
  const auto t0 = std::chrono::steady_clock::now();
  fn();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s MODEL [REPS]\n", argv[0]);
    return 2;
  }
  const std::string model = argv[1];
  const int reps = argc > 2 ? std::max(1, std::stoi(argv[2])) : 11;
  namespace fs = std::filesystem;
  const fs::path dir = fs::is_directory(model) ? fs::path(model) : fs::path(model).parent_path();
  const bool gpt2_files = fs::is_regular_file(dir / "vocab.json") && fs::is_regular_file(dir / "merges.txt");
  try {
    { const tinygpt::Model warm = tinygpt::load_model(model); }  // the page cache, not the disk
    std::vector<double> whole, tokenizer;
    for (int i = 0; i < reps; ++i) {
      whole.push_back(seconds([&] { const tinygpt::Model m = tinygpt::load_model(model); }));
      if (gpt2_files)
        tokenizer.push_back(seconds([&] {
          const auto t =
              tinygpt::Tokenizer::from_gpt2_files((dir / "vocab.json").string(), (dir / "merges.txt").string());
        }));
    }
    std::printf("load_model    %8.1f ms (median of %d; %.1f .. %.1f)\n", 1e3 * median(whole), reps,
                1e3 * *std::min_element(whole.begin(), whole.end()),
                1e3 * *std::max_element(whole.begin(), whole.end()));
    if (gpt2_files) {
      std::printf("  tokenizer   %8.1f ms (vocab.json + merges.txt alone)\n", 1e3 * median(tokenizer));
      std::printf("  the rest    %8.1f ms (config, header, weights: the difference of the medians)\n",
                  1e3 * (median(whole) - median(tokenizer)));
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
