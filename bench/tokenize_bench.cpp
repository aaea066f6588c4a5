// Encode throughput of tiny-gpt's GPT-2 tokenizer (not a test; see bench/tokenize_bench.mjs,
// which runs this next to js-tiktoken and tiktoken on the same texts).
//
//   tokenize-bench ENCODER_JSON VOCAB_BPE FILE...
//
// Prints one JSON line per file: bytes, tokens, best time of the runs, MB/s (1 MB = 1e6
// bytes), and a hash of the ids (h = h*31 + id, 32-bit) to compare with the other encoders.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include "tinygpt/error.h"
#include "tinygpt/tokenizer.h"

namespace {

std::string read_file(const char* path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(std::string("cannot read ") + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: %s ENCODER_JSON VOCAB_BPE FILE...\n", argv[0]);
    return 2;
  }
  try {
    const auto t0 = std::chrono::steady_clock::now();
    const auto tok = tinygpt::Tokenizer::from_gpt2_files(argv[1], argv[2]);
    const double load_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::fprintf(stderr, "tiny-gpt: loaded GPT-2's tokenizer in %.3f s\n", load_s);
    for (int a = 3; a < argc; ++a) {
      const std::string text = read_file(argv[a]);
      std::size_t warm = std::min<std::size_t>(text.size(), 200000);
      while (warm < text.size() && (static_cast<unsigned char>(text[warm]) & 0xC0) == 0x80) --warm;  // whole characters
      tok.encode(std::string_view(text).substr(0, warm));                                            // warm up
      double best = 1e30, total = 0;
      std::vector<std::int32_t> ids;
      for (int run = 0; run < 5 && (run < 2 || total < 10); ++run) {
        const auto s = std::chrono::steady_clock::now();
        ids = tok.encode(text);
        const double dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - s).count();
        best = std::min(best, dt);
        total += dt;
      }
      std::int32_t h = 0;
      for (const auto id : ids)
        h = static_cast<std::int32_t>(static_cast<std::uint32_t>(h) * 31u + static_cast<std::uint32_t>(id));
      std::printf(
          "{\"file\": \"%s\", \"bytes\": %zu, \"tokens\": %zu, \"seconds\": %.6f, \"mb_per_s\": %.3f, \"hash\": %d}\n",
          argv[a], text.size(), ids.size(), best, text.size() / best / 1e6, h);
      std::fflush(stdout);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tokenize-bench: %s\n", e.what());
    return 1;
  }
  return 0;
}
