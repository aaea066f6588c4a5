// libFuzzer target: the command line, in process. The input, split at NUL bytes, is the
// argument list of the real main() (src/cli/main.cpp compiled as tiny_gpt_main), so
// CLI11's parsing, every subcommand's flags and checks, and main's mapping of errors to
// exit codes all run as they do for a user. main() must return 0, 1 or 2, whatever the
// arguments; anything else (an exception escaping, a crash, a sanitizer report) is a finding.
//
// The target runs in a scratch directory where every shipped model name resolves to an
// empty stub file (TINYGPT_MODEL_DIR is searched first), and arguments holding '/' are
// skipped, so no path can reach a shipped model, a device or a file outside the scratch
// directory. One real model is there, a tiny one named "real" (tests/fixtures/broken/
// base.model.json: 1 layer, 2 heads, n_ctx 6): with it the flags that index into a model
// (positions, layers, heads, token counts against n_ctx) reach the forward pass, where an
// overflow would show. It is so small that any run is quick, except `bench -r` (repetitions
// without bound), so bench is not run on it. Files that a run writes (-o, --plot, --export)
// are removed after it. Standard input is /dev/null.
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.h"
#include "model_path.h"

int tiny_gpt_main(int argc, char** argv);

namespace {

constexpr std::size_t kMaxArgs = 24;
constexpr const char* kRealModel = "real.json";

char scratch[] = "/tmp/tinygpt-fuzz-cli-XXXXXX";

bool mentions(const std::vector<std::string>& args, std::string_view what) {
  for (const auto& a : args)
    if (a.find(what) != std::string::npos) return true;
  return false;
}

// The scratch directory as every run must find it: an empty stub for each shipped model
// name and for the default, the tiny real model, nothing else.
std::map<std::string, std::uintmax_t> expected_files() {
  namespace fs = std::filesystem;
  std::map<std::string, std::uintmax_t> files;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(TINYGPT_MODELS, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.ends_with(".json")) files[name] = 0;  // empty: refused at once
  }
  files[tinygpt::kDefaultModelName] = 0;  // shipped or not
  files[kRealModel] = fs::file_size(TINYGPT_REAL_MODEL);
  return files;
}

// Puts the directory back the way expected_files() says when a run changed it: outputs
// (-o, --plot, --export) are removed, and so is a stub or the real model written over.
void reset_scratch(const std::map<std::string, std::uintmax_t>& want) {
  namespace fs = std::filesystem;
  std::error_code ec;
  std::size_t seen = 0;
  bool same = true;
  for (const auto& entry : fs::directory_iterator(scratch, ec)) {
    const auto it = want.find(entry.path().filename().string());
    same = same && it != want.end() && entry.is_regular_file(ec) && entry.file_size(ec) == it->second;
    ++seen;
  }
  if (same && seen == want.size()) return;
  std::vector<fs::path> all;
  for (const auto& entry : fs::directory_iterator(scratch, ec)) all.push_back(entry.path());
  for (const auto& p : all) fs::remove_all(p, ec);
  for (const auto& [name, size] : want) {
    if (size == 0) std::ofstream(fs::path(scratch) / name).flush();
    else fs::copy_file(TINYGPT_REAL_MODEL, fs::path(scratch) / name, ec);
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  FUZZ_CHECK(::mkdtemp(scratch) != nullptr);
  std::atexit([] {
    std::error_code ec;
    std::filesystem::remove_all(scratch, ec);
  });
  reset_scratch(expected_files());
  FUZZ_CHECK(::setenv("TINYGPT_MODEL_DIR", scratch, 1) == 0);
  FUZZ_CHECK(::chdir(scratch) == 0);
  // `generate -`, `-f -` and `--batch -` read standard input: let that be empty at once,
  // never a terminal or a pipe that waits.
  FUZZ_CHECK(std::freopen("/dev/null", "r", stdin) != nullptr);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::vector<std::string> args = {"tiny-gpt"};
  std::string current;
  for (std::size_t i = 0; i < size; ++i) {
    const char c = static_cast<char>(data[i]);
    if (c == '/') return -1;  // see above: no paths outside the scratch directory
    if (c == '\0') {
      args.push_back(current);
      current.clear();
      if (args.size() > kMaxArgs) return -1;
    } else {
      current += c;
    }
  }
  if (!current.empty() || size == 0) args.push_back(current);
  if (mentions(args, "bench") && mentions(args, "real")) return -1;  // see above: -r has no bound

  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  spdlog::drop_all();  // main registers its logger by name on every call
  std::clearerr(stdout);
  const int code = tiny_gpt_main(static_cast<int>(args.size()), argv.data());
  FUZZ_CHECK(code == 0 || code == 1 || code == 2);
  spdlog::drop_all();
  reset_scratch(expected_files());
  return 0;
}
