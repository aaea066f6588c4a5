// Hostile inputs through the real binary: one TEST_CASE per row of docs/errors.md.
//
// Each runs tiny-gpt and checks the exit code (1 bad model or input, 2 bad usage), that
// stderr is exactly one line "tiny-gpt: error: ..." naming the problem (so no stack trace,
// abort or sanitizer report) and that stdout is empty; rows about output files also check
// that nothing was left behind, not even a temporary file, and that a file already there
// is untouched. Broken models are made at test time from tests/fixtures/broken/base*.json,
// each with one deliberate change.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <set>
#include <string>
#include <vector>

#include "checkpoint_writer.h"
#include "helpers.h"
#include "tinygpt/error.h"
#include "output_file.h"
#include "thread_pool.h"

using namespace tinygpt::test;
using Catch::Matchers::Contains;
namespace fs = std::filesystem;

namespace {

#if defined(__SANITIZE_ADDRESS__)
constexpr bool kSanitized = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr bool kSanitized = true;
#else
constexpr bool kSanitized = false;
#endif
#else
constexpr bool kSanitized = false;
#endif

// A directory of one's own for one test, removed with everything in it afterwards.
class Scratch {
 public:
  Scratch() {
    char tmpl[] = "/tmp/tinygpt-errors-XXXXXX";
    REQUIRE(::mkdtemp(tmpl) != nullptr);
    dir_ = tmpl;
    ::chmod(dir_.c_str(), 0755);  // other users may look in (see run_as_nobody)
  }
  ~Scratch() {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;

  std::string path(const std::string& name) const { return dir_ + "/" + name; }
  std::string file(const std::string& name, const std::string& content) const {
    std::ofstream(path(name), std::ios::binary) << content;
    return path(name);
  }
  std::string dir(const std::string& name) const {
    fs::create_directories(path(name));
    return path(name);
  }
  // Names of everything below `sub`, hidden temporary files included.
  std::set<std::string> entries(const std::string& sub = "") const {
    std::set<std::string> names;
    for (const auto& e : fs::recursive_directory_iterator(sub.empty() ? dir_ : path(sub)))
      names.insert(fs::relative(e.path(), sub.empty() ? dir_ : path(sub)).string());
    return names;
  }

 private:
  std::string dir_;
};

std::string base() { return read_file(fixture("broken/base.model.json")); }
std::string base_bpe() { return read_file(fixture("broken/base_bpe.model.json")); }

// `text` with its one occurrence of `from` replaced (a change to the fixture fails here, loudly).
std::string with(std::string text, const std::string& from, const std::string& to) {
  const auto at = text.find(from);
  INFO("looking for " << from);
  REQUIRE(at != std::string::npos);
  REQUIRE(text.find(from, at + 1) == std::string::npos);
  return text.replace(at, from.size(), to);
}

// Runs the binary like run_cli, with a shell prefix (ulimit, env, setpriv) and optionally
// stdout sent somewhere else (then `out` is empty).
RunResult run_sh(const std::string& prefix, const std::string& args, const std::string& stdout_to = "") {
  const std::string dir = "/tmp/tinygpt-errors-run-" + std::to_string(::getpid());
  fs::create_directories(dir);
  const std::string out = dir + "/out", err = dir + "/err";
  fs::remove(out);
  const std::string cmd = prefix + " '" + TINYGPT_BINARY + "' " + args + " </dev/null >" +
                          (stdout_to.empty() ? out : stdout_to) + " 2>" + err;
  const int status = std::system(cmd.c_str());
  RunResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.out = stdout_to.empty() ? read_file(out) : "";
  r.err = read_file(err);
  fs::remove_all(dir);
  return r;
}

// Caps what the run may allocate, so that a size a file merely claims cannot be honoured:
// 2 GB of address space, or under ASan (which reserves terabytes up front) at most 256 MB
// in any one allocation.
std::string memory_cap() {
  if (kSanitized) return "ASAN_OPTIONS=\"${ASAN_OPTIONS:-}:max_allocation_size_mb=256\"";
  return "ulimit -v 2097152;";
}

// Exactly one line on stderr, prefixed like every error of ours, naming the problem;
// nothing on stdout.
void check_error(const RunResult& r, int code, std::initializer_list<std::string> says) {
  INFO("stderr: " << r.err);
  CHECK(r.exit_code == code);
  CHECK(r.err.rfind("tiny-gpt: error: ", 0) == 0);
  CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  CHECK(r.out.empty());
  for (const auto& s : says) CHECK_THAT(r.err, Contains(s));
}

std::string generate(const std::string& model, const std::string& prompt = "a") {
  return "generate -m " + quote(model) + " " + quote(prompt) + " -n 2 --temperature 0";
}

// A table of (arguments, what stderr must say): each row runs the binary once.
using Cases = std::vector<std::pair<std::string, std::string>>;
// `also`, when given, must be said by every row.
void check_each(const Cases& cases, int code, const std::string& prefix = "", const std::string& also = "") {
  for (const auto& [args, says] : cases) {
    INFO(prefix + args);
    const RunResult r = run_cli(prefix + args);
    if (also.empty()) check_error(r, code, {says});
    else check_error(r, code, {says, also});
  }
}

// Loading `text` as a model file fails with exit 1 and a message holding `says`.
void check_model_error(const std::string& text, std::initializer_list<std::string> says) {
  Scratch s;
  const std::string path = s.file("model.json", text);
  check_error(run_cli(generate(path)), 1, says);
}

// 0 if we can run commands as the user nobody (we are root and setpriv works).
bool can_run_as_nobody() {
  if (::geteuid() != 0) return false;
  return std::system(("setpriv --reuid=65534 --regid=65534 --clear-groups '" + std::string(TINYGPT_BINARY) +
                      "' --version >/dev/null 2>&1")
                         .c_str()) == 0;
}
const char* kAsNobody = "setpriv --reuid=65534 --regid=65534 --clear-groups";

// Mounts a tmpfs of `kb` kilobytes at `dir` for the scope's lifetime (root only).
class TmpfsMount {
 public:
  TmpfsMount(const std::string& dir, int kb, bool read_only = false) : dir_(dir) {
    const std::string cmd = read_only ? "mount --bind -o ro " + quote(dir) + " " + quote(dir)
                                      : "mount -t tmpfs -o size=" + std::to_string(kb) + "k tmpfs " + quote(dir);
    mounted_ = std::system((cmd + " 2>/dev/null").c_str()) == 0;
  }
  ~TmpfsMount() {
    if (mounted_) std::system(("umount " + quote(dir_) + " 2>/dev/null").c_str());
  }
  bool mounted() const { return mounted_; }

 private:
  std::string dir_;
  bool mounted_ = false;
};

bool is_temporary(const std::string& name) { return name.find(".tmp-") != std::string::npos; }

}  // namespace

// ---- the model file ---------------------------------------------------------------------

TEST_CASE("errors: model file missing", "[errors]") {
  Scratch s;
  check_error(run_cli(generate(s.path("nope.json"))), 1, {"cannot open model file", "nope.json", "No such file or directory"});
  // A bare name is looked up among the shipped models, and the message says where.
  check_error(run_cli(generate("no-such-model")), 1, {"model \"no-such-model\" not found", "looked in"});
}

TEST_CASE("errors: model file unreadable", "[errors]") {
  Scratch s;
  const std::string path = s.file("model.json", base());
  ::chmod(path.c_str(), 0);
  if (::geteuid() != 0) {
    check_error(run_cli(generate(path)), 1, {"cannot open model file", "Permission denied"});
  } else if (can_run_as_nobody()) {  // root reads anything: run this one as nobody
    check_error(run_sh(kAsNobody, generate(path)), 1, {"cannot open model file", "Permission denied"});
  } else {
    WARN("SKIP: running as root without setpriv, so no file is unreadable to us");
  }
  // A path through a regular file cannot be opened either.
  check_error(run_cli(generate(path + "/model.json")), 1, {"cannot open model file", "Not a directory"});
}

TEST_CASE("errors: model path is a directory", "[errors]") {
  Scratch s;
  check_error(run_cli(generate(s.dir("models"))), 1, {"is a directory, not a model file"});
}

TEST_CASE("errors: model path is a device or a FIFO", "[errors]") {
  check_error(run_cli(generate("/dev/zero")), 1, {"/dev/zero is not a regular file"});
  check_error(run_cli(generate("/dev/null")), 1, {"/dev/null is not a regular file"});
  // Opening a FIFO with no writer would wait forever; `timeout` turns a hang into a failure.
  Scratch s;
  const std::string fifo = s.path("model.json");
  REQUIRE(::mkfifo(fifo.c_str(), 0644) == 0);
  check_error(run_sh("timeout 20", generate(fifo)), 1, {"is not a regular file"});
}

TEST_CASE("errors: model file empty", "[errors]") {
  check_model_error("", {"is empty, not a model file"});
  check_model_error(" \n\t\n", {"is empty, not a model file"});
}

TEST_CASE("errors: model file truncated", "[errors]") {
  const std::string text = base();
  const std::vector<std::pair<std::string, std::size_t>> cuts = {
      {"before the first field", 2},
      {"inside config", text.find("\"n_head\"") + 4},
      {"inside a vocabulary string", text.find("\"<eos>\"") + 3},
      {"inside a tensor name", text.find("\"h.0.ln_2.bias\"") + 6},
      {"after a comma in data", text.find("[1.0, ") + 5},
      {"inside a number", text.find("0.35") + 2},
      {"inside a b64 string", text.find("\"b64\": \"") + 20},
      {"before the last brace", text.rfind('}')},
  };
  for (const auto& [where, cut] : cuts) {
    INFO("cut " << where << " at byte " << cut);
    REQUIRE(cut < text.size());
    check_model_error(text.substr(0, cut), {"malformed JSON", "unexpected end of file"});
  }
}

TEST_CASE("errors: not JSON at all", "[errors]") {
  check_model_error("\x89PNG\r\n\x1a\n\0\0\0\rIHDR", {"malformed JSON at byte 0"});
  check_model_error("GGUF\3\0\0\0", {"malformed JSON at byte 0"});
  check_model_error("hello, world\n", {"malformed JSON at byte 0"});
  check_model_error("\xEF\xBB\xBF" + base(), {"malformed JSON at byte 0"});  // a byte-order mark
  check_model_error(base() + "}", {"extra text after the top-level object"});
  check_model_error(with(base(), "\"a\", \"b\"", "\"a\", \"\xff\""), {"invalid UTF-8 inside a string"});
}

TEST_CASE("errors: JSON that is not a model", "[errors]") {
  check_model_error(R"({"name": "left-pad", "version": "1.3.0", "dependencies": {}})", {"not a tiny-gpt weights file (no \"format\" field)"});
  check_model_error("{}", {"not a tiny-gpt weights file"});
  check_model_error("[1, 2, 3]", {"a tiny-gpt weights file is a JSON object"});
  check_model_error("null", {"a tiny-gpt weights file is a JSON object"});
}

TEST_CASE("errors: wrong format", "[errors]") {
  check_model_error(with(base(), R"("format": "tiny-gpt")", R"("format": "gguf")"), {"not a tiny-gpt weights file (format is \"gguf\""});
  check_model_error(with(base(), R"("format": "tiny-gpt")", R"("format": 1)"), {"not a tiny-gpt weights file (format is 1"});
}

TEST_CASE("errors: unknown or missing version", "[errors]") {
  check_model_error(with(base(), R"("version": 1)", R"("version": 2)"), {"unsupported version 2 (this build reads version 1)"});
  check_model_error(with(base(), R"("version": 1)", R"("version": "1")"), {"unsupported version \"1\""});
  check_model_error(with(base(), R"("version": 1)", R"("version": 1.5)"), {"unsupported version 1.5"});
  check_model_error(with(base(), " \"version\": 1,\n", ""), {"missing \"version\" (expected 1)"});
}

TEST_CASE("errors: missing config field or section", "[errors]") {
  check_model_error(with(base(), R"(, "n_layer": 1)", ""), {"config.n_layer is missing"});
  check_model_error(with(base(), R"("vocab_size": 5, )", ""), {"config.vocab_size is missing"});
  const std::string text = base();
  const auto config = text.find(" \"config\"");
  check_model_error(text.substr(0, config) + text.substr(text.find('\n', config) + 1), {"missing \"config\""});
  const auto tok = text.find(" \"tokenizer\"");
  check_model_error(text.substr(0, tok) + text.substr(text.find('\n', tok) + 1), {"missing \"tokenizer\""});
  check_model_error(with(base(), R"("vocab": ["<bos>", "<eos>", "a", "b", " "], )", ""), {"tokenizer.vocab must be a list"});
  check_model_error(text.substr(0, text.find(",\n \"tensors\"")) + "\n}\n", {"missing tensor wte.weight"});
}

TEST_CASE("errors: wrongly typed config field", "[errors]") {
  check_model_error(with(base(), R"("n_embd": 4)", R"("n_embd": "4")"), {"config.n_embd must be an integer, found \"4\""});
  check_model_error(with(base(), R"("n_embd": 4)", R"("n_embd": 4.5)"), {"config.n_embd must be an integer, found 4.5"});
  check_model_error(with(base(), R"("n_embd": 4)", R"("n_embd": null)"), {"config.n_embd is missing"});
  check_model_error(with(base(), R"("n_inner": 4})", R"("n_inner": 4, "tie_word_embeddings": "yes"})"),
                    {"config.tie_word_embeddings must be true or false"});
  check_model_error(with(base(), R"("n_inner": 4})", R"("n_inner": 4, "positional": "rotary"})"),
                    {"config.positional = \"rotary\" is not one of \"learned\", \"sinusoidal\""});
  check_model_error(with(base(), R"("n_inner": 4})", R"("n_inner": 4, "activation": 3})"), {"config.activation must be one of"});
  check_model_error(with(base(), R"("n_inner": 4})", R"("n_inner": 4, "layer_norm_epsilon": -1})"),
                    {"config.layer_norm_epsilon must be a positive number"});
  const std::string text = base();
  const auto config = text.find("\"config\": ") + 10;
  check_model_error(text.substr(0, config) + "[]" + text.substr(text.find('}', config) + 1), {"\"config\" must be an object"});
  check_model_error(with(base(), R"("type": "char")", R"("type": "sentencepiece")"), {"unknown tokenizer.type \"sentencepiece\""});
}

TEST_CASE("errors: duplicate keys", "[errors]") {
  check_model_error(with(base(), " \"version\": 1,\n", " \"version\": 1,\n \"version\": 1,\n"), {"top-level field \"version\" appears twice"});
  check_model_error(with(base(), R"("n_head": 2)", R"("n_head": 2, "n_head": 1)"), {"\"config\" has the key \"n_head\" twice"});
  check_model_error(with(base(), R"("eos_token": "<eos>")", R"("eos_token": "<eos>", "eos_token": "a")"),
                    {"\"tokenizer\" has the key \"eos_token\" twice"});
  check_model_error(with(base(), R"("ln_f.bias": {"shape": [4], )", R"("ln_f.bias": {"shape": [4], "shape": [4], )"),
                    {"tensor ln_f.bias: field \"shape\" appears twice"});
}

TEST_CASE("errors: zero or negative sizes", "[errors]") {
  check_model_error(with(base(), R"("vocab_size": 5)", R"("vocab_size": 0)"), {"config.vocab_size = 0 is out of range"});
  check_model_error(with(base(), R"("n_head": 2)", R"("n_head": 0)"), {"config.n_head = 0 is out of range"});
  check_model_error(with(base(), R"("n_ctx": 6)", R"("n_ctx": -6)"), {"config.n_ctx = -6 is out of range"});
  check_model_error(with(base(), R"("n_inner": 4)", R"("n_inner": 0)"), {"config.n_inner = 0 is out of range"});
  check_model_error(with(base(), R"("ln_f.bias": {"shape": [4])", R"("ln_f.bias": {"shape": [0])"), {"tensor ln_f.bias: shape [0] must hold positive integers"});
  check_model_error(with(base(), R"("ln_f.bias": {"shape": [4])", R"("ln_f.bias": {"shape": [-4])"), {"must hold positive integers"});
  check_model_error(with(base(), R"("ln_f.bias": {"shape": [4])", R"("ln_f.bias": {"shape": [])"), {"must have 1 or 2 dimensions"});
  check_model_error(with(base(), R"("ln_f.bias": {"shape": [4])", R"("ln_f.bias": {"shape": [1, 1, 4])"), {"must have 1 or 2 dimensions"});
}

TEST_CASE("errors: absurd sizes refused before any allocation", "[errors]") {
  // Each file is small; what it claims is not. The run may not allocate what is claimed.
  Scratch s;
  auto run = [&](const std::string& text) { return run_sh(memory_cap(), generate(s.file("model.json", text))); };
  // vocab_size x n_embd overflows 64 bits.
  check_error(run(with(with(base(), R"("vocab_size": 5)", R"("vocab_size": 2147483647)"), R"("n_embd": 4, "n_head": 2)",
                       R"("n_embd": 2147483646, "n_head": 2)")),
              1, {"the config describes a model larger than the limit of 1000000000 parameters", "--max-params"});
  check_error(run(with(base(), R"("n_ctx": 6)", R"("n_ctx": 1000000000)")), 1,
              {"config.n_ctx = 1000000000 exceeds the limit of 65536", "--max-ctx"});
  check_error(run(with(base(), R"("n_layer": 1)", R"("n_layer": 2147483647)")), 1, {"larger than the limit"});
  check_error(run(with(base(), R"("n_layer": 1)", R"("n_layer": 18446744073709551615)")), 1,
              {"config.n_layer = 18446744073709551615 is out of range (must be 1 to 2147483647)"});
  check_error(run(with(base(), R"("vocab_size": 5)", R"("vocab_size": 1e300)")), 1, {"config.vocab_size must be an integer"});
  // Sinusoidal positions are computed from the config alone (n_ctx x n_embd, 2.4 GB here):
  // a file that lacks the tensors to back that config must be refused before the table is built.
  const int D = 9128;
  std::string wte = "[";
  for (int i = 0; i < 5 * D; ++i) wte += i ? ",0" : "0";
  wte += "]";
  std::string big = with(base(), R"("n_ctx": 6, "n_embd": 4, "n_head": 2, "n_layer": 1, "n_inner": 4})",
                         R"("n_ctx": 65536, "n_embd": 9128, "n_head": 1, "n_layer": 1, "n_inner": 4, "positional": "sinusoidal"})");
  const auto wte_at = big.find("\"wte.weight\"");
  big = big.substr(0, wte_at) + "\"wte.weight\": {\"shape\": [5, 9128], \"data\": " + wte + "}}}\n";
  check_error(run(big), 1, {"missing tensor h.0.ln_1.weight"});
}

TEST_CASE("errors: a shape claiming more values than the file holds", "[errors]") {
  Scratch s;
  auto run = [&](const std::string& text) { return run_sh(memory_cap(), generate(s.file("model.json", text))); };
  // 960 million floats (3.8 GB) claimed, two given: refused without reserving room for the claim.
  const std::string claim = R"("zz": {"shape": [60000, 16000], "data": [1, 2]},
  "ln_f.bias")";
  check_error(run(with(base(), "\"ln_f.bias\"", claim)), 1, {"tensor zz: data has 2 values but shape [60000, 16000] needs 960000000"});
  const std::string b64 = R"("zz": {"shape": [60000, 16000], "b64": "AAAAAAAAAAA="},
  "ln_f.bias")";
  check_error(run(with(base(), "\"ln_f.bias\"", b64)), 1, {"tensor zz: b64 holds 2 values but shape [60000, 16000] needs 960000000"});
  // Over the parameter limit outright: refused at the shape.
  check_error(run(with(base(), "\"ln_f.bias\"", with(claim, "[60000, 16000]", "[2000000000, 2000000000]"))), 1,
              {"shape [2000000000, 2000000000] exceeds the limit of 1000000000 parameters"});
  check_error(run(with(base(), "\"ln_f.bias\"", with(claim, "[60000, 16000]", "[100000, 100000]"))), 1,
              {"shape [100000, 100000] exceeds the limit of 1000000000 parameters"});
}

TEST_CASE("errors: n_embd not divisible by n_head", "[errors]") {
  check_model_error(with(base(), R"("n_head": 2)", R"("n_head": 3)"), {"config.n_embd = 4 is not divisible by config.n_head = 3"});
}

TEST_CASE("errors: missing tensor", "[errors]") {
  const std::string text = base();
  const auto at = text.find("  \"ln_f.bias\"");
  check_model_error(text.substr(0, at - 2) + "\n }\n}\n", {"missing tensor ln_f.bias (shape [4])"});
  check_model_error(with(base(), R"("h.0.attn.c_proj.bias")", R"("h.0.attn.c_proj.biass")"), {"missing tensor h.0.attn.c_proj.bias"});
}

TEST_CASE("errors: duplicate tensor", "[errors]") {
  check_model_error(with(base(), "  \"ln_f.bias\"", "  \"ln_f.bias\": {\"shape\": [4], \"data\": [0, 0, 0, 0]},\n  \"ln_f.bias\""),
                    {"tensor ln_f.bias appears twice"});
}

TEST_CASE("errors: unknown tensor, or one the config does not call for", "[errors]") {
  const std::string bias = R"({"shape": [4], "data": [0, 0, 0, 0]})";
  check_model_error(with(base(), "  \"ln_f.bias\"", "  \"h.1.ln_1.bias\": " + bias + ",\n  \"ln_f.bias\""),
                    {"unknown tensor h.1.ln_1.bias (the config does not call for it)"});
  check_model_error(with(base(), "  \"ln_f.bias\"", "  \"lm_head.weight\": {\"shape\": [5, 4], \"data\": [0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0]},\n  \"ln_f.bias\""),
                    {"tensor lm_head.weight is present but config.tie_word_embeddings is true"});
  check_model_error(with(base(), R"("n_inner": 4})", R"("n_inner": 4, "positional": "sinusoidal"})"),
                    {"tensor wpe.weight is present but config.positional is \"sinusoidal\""});
  check_model_error(with(base(), R"("ln_f.bias": {"shape": [4], "data")", R"("ln_f.bias": {"shape": [4], "scale": 1, "data")"),
                    {"tensor ln_f.bias: unknown field \"scale\""});
  check_model_error(with(base(), R"("dtype": "f32")", R"("dtype": "f16")"), {"tensor wpe.weight: dtype \"f16\" is not supported"});
}

TEST_CASE("errors: wrongly shaped tensor", "[errors]") {
  check_model_error(with(base(), R"("ln_f.bias": {"shape": [4])", R"("ln_f.bias": {"shape": [2, 2])"),
                    {"wrong shape for ln_f.bias: got [2, 2], expected [4]"});
  check_model_error(with(base(), R"("h.0.attn.c_attn.weight": {"shape": [4, 12])", R"("h.0.attn.c_attn.weight": {"shape": [12, 4])"),
                    {"wrong shape for h.0.attn.c_attn.weight: got [12, 4], expected [4, 12]"});
  check_model_error(with(base(), R"("ln_f.bias": {"shape": [4])", R"("ln_f.bias": {"shape": "4")"), {"\"shape\" must be a list of integers"});
}

TEST_CASE("errors: data shorter or longer than the shape", "[errors]") {
  check_model_error(with(base(), R"("ln_f.bias": {"shape": [4])", R"("ln_f.bias": {"shape": [5])"),
                    {"tensor ln_f.bias: data has 4 values but shape [5] needs 5"});
  check_model_error(with(base(), R"("ln_f.bias": {"shape": [4])", R"("ln_f.bias": {"shape": [3])"),
                    {"tensor ln_f.bias: data has more values than shape [3] holds (3)"});
  // Data before shape: counted first, compared when the shape arrives.
  check_model_error(with(base(), R"("ln_f.bias": {"shape": [4], "data": [0.2, 0.35, -0.35, -0.2]})",
                         R"("ln_f.bias": {"data": [0.2, 0.35, -0.35], "shape": [4]})"),
                    {"tensor ln_f.bias: data has 3 values but shape [4] needs 4"});
  check_model_error(with(base(), R"("ln_f.bias": {"shape": [4], "data": [0.2, 0.35, -0.35, -0.2]})", R"("ln_f.bias": {"shape": [4]})"),
                    {"tensor ln_f.bias has neither \"data\" nor \"b64\""});
}

TEST_CASE("errors: NaN, Infinity, strings or nested arrays in data", "[errors]") {
  const std::string at = R"("ln_f.bias": {"shape": [4], "data": [0.2)";
  auto first_value = [&](const std::string& v) { return with(base(), at, R"("ln_f.bias": {"shape": [4], "data": [)" + v); };
  for (const char* v : {"NaN", "Infinity", "-Infinity", "nan", "inf"})
    check_model_error(first_value(v), {"tensor ln_f.bias data[0] is not finite"});
  check_model_error(first_value("1e39"), {"tensor ln_f.bias data[0] = 1e39 is too large for float32"});
  check_model_error(first_value("\"0.4\""), {"tensor ln_f.bias data[0] is a string, expected a number"});
  check_model_error(first_value("[0.4]"), {"tensor ln_f.bias data[0] is a nested array"});
  check_model_error(first_value("{}"), {"tensor ln_f.bias data[0] is a nested object"});
  check_model_error(first_value("null"), {"expected a number for tensor ln_f.bias data[0]"});
  check_model_error(first_value("0x10"), {"malformed JSON", "ln_f.bias"});
  check_model_error(first_value("+0.4"), {"expected a number for tensor ln_f.bias data[0]"});
}

TEST_CASE("errors: bad base64", "[errors]") {
  const std::string text = base();
  const auto start = text.find("\"b64\": \"") + 8;
  const auto end = text.find('"', start);
  const std::string b64 = text.substr(start, end - start);
  auto with_b64 = [&](const std::string& s) { return text.substr(0, start) + s + text.substr(end); };
  check_model_error(with_b64(b64.substr(0, 5) + "*" + b64.substr(6)), {"tensor wpe.weight: bad base64 character at byte"});
  check_model_error(with_b64(b64.substr(0, b64.size() - 1)), {"tensor wpe.weight: bad base64 (length 127 is not a multiple of 4)"});
  check_model_error(with_b64(b64.substr(0, b64.size() - 4) + "AAA="), {"base64 decodes to 95 bytes, not whole float32 values"});
  check_model_error(with_b64(b64.substr(0, 4) + "\\u0041" + b64.substr(10)), {"bad base64 character"});
  check_model_error(with_b64("AADAfw" + b64.substr(6)), {"tensor wpe.weight: value 0 is not finite"});  // a NaN
  check_model_error(with_b64("AACAfw" + b64.substr(6)), {"tensor wpe.weight: value 0 is not finite"});  // +Infinity
  check_model_error(text.substr(0, start - 1) + "17" + text.substr(end + 1), {"tensor wpe.weight: \"b64\" must be a string"});
  check_model_error(with(text, R"([0.2, 0.35, -0.35, -0.2]})", R"([0.2, 0.35, -0.35, -0.2], "b64": "AAAAAAAAAAAAAAAAAAAAAA=="})"),
                    {"tensor ln_f.bias has both \"data\" and \"b64\""});
}

TEST_CASE("errors: tokenizer vocabulary disagreeing with vocab_size", "[errors]") {
  check_model_error(with(base(), R"("vocab_size": 5)", R"("vocab_size": 4)"), {"the tokenizer has 5 entries but config.vocab_size is 4"});
  check_model_error(with(base_bpe(), R"("vocab_size": 259)", R"("vocab_size": 258)"),
                    {"the tokenizer has 259 entries but config.vocab_size is 258"});
}

TEST_CASE("errors: duplicate vocabulary entries", "[errors]") {
  check_model_error(with(base(), R"("a", "b")", R"("a", "a")"), {"tokenizer.vocab has \"a\" twice (ids 2 and 3)"});
  check_model_error(with(base_bpe(), R"("ab": 256)", R"("ab": 256, "ab": 257)"), {"\"tokenizer\" has the key \"ab\" twice"});
  check_model_error(with(base_bpe(), R"("ab": 256)", R"("ab": 255)"), {"tokenizer.vocab: id 255 is given to both"});
  check_model_error(with(base_bpe(), "\"a b\", \"\xC4\xA0 a\"", "\"a b\", \"a b\""), {"tokenizer.merges[1]: the pair \"a b\" is listed twice"});
}

TEST_CASE("errors: merges naming unknown tokens", "[errors]") {
  check_model_error(with(base_bpe(), R"("a b")", R"("a zz")"), {"tokenizer.merges[0]: token \"zz\" is not in the vocabulary"});
  check_model_error(with(base_bpe(), R"("a b")", R"("b a")"), {"tokenizer.merges[0]: the merged token \"ba\" is not in the vocabulary"});
  check_model_error(with(base_bpe(), R"("a b")", R"("a b c")"), {"tokenizer.merges[0] \"a b c\" is not two tokens separated by one space"});
  check_model_error(with(base_bpe(), R"("a b")", R"(7)"), {"tokenizer.merges[0] is not a string"});
  check_model_error(with(base_bpe(), R"("a b")", R"("<|endoftext|> a")"), {"is a special token"});
}

TEST_CASE("errors: bos, eos or unk naming tokens that do not exist", "[errors]") {
  check_model_error(with(base(), R"("bos_token": "<bos>")", R"("bos_token": "<s>")"), {"tokenizer.bos_token \"<s>\" is not in the vocabulary"});
  check_model_error(with(base(), R"("eos_token": "<eos>")", R"("eos_token": "</s>")"), {"tokenizer.eos_token \"</s>\" is not in the vocabulary"});
  check_model_error(with(base(), R"("eos_token": "<eos>")", R"("eos_token": "<eos>", "unk_token": "<unk>")"),
                    {"tokenizer.unk_token \"<unk>\" is not in the vocabulary"});
  check_model_error(with(base(), R"("eos_token": "<eos>")", R"("eos_token": 1)"), {"tokenizer.eos_token must be a string"});
  check_model_error(with(base_bpe(), R"("bos_token": "<|endoftext|>")", R"("bos_token": "<s>")"),
                    {"tokenizer.bos_token \"<s>\" is not in the vocabulary"});
}

TEST_CASE("errors: other tokenizer mistakes", "[errors]") {
  check_model_error(with(base(), R"("a", "b")", R"("a", "bb")"), {"tokenizer.vocab[3] \"bb\" is more than one character"});
  check_model_error(with(base(), R"("a", "b")", R"("a", "")"), {"tokenizer.vocab[3] is empty"});
  check_model_error(with(base(), R"("a", "b")", R"("a", 7)"), {"tokenizer.vocab[3] is not a string"});
  check_model_error(with(base(), R"(["<bos>", "<eos>", "a", "b", " "], "bos_token": "<bos>", "eos_token": "<eos>")", "[]"),
                    {"tokenizer.vocab is empty"});
  check_model_error(with(base_bpe(), R"("!": 0, )", R"("!!": 0, )"), {"lacks the byte token \"!\""});
  check_model_error(with(base_bpe(), R"("type": "byte_bpe", )", R"("type": "byte_bpe", "unk_token": "ab", )"),
                    {"tokenizer.unk_token is only for char tokenizers"});
}

TEST_CASE("errors: a model over the limits, and the flags that raise them", "[errors]") {
  Scratch s;
  const std::string m = s.file("model.json", base());
  check_error(run_cli(generate(m) + " --max-params 10"), 1, {"larger than the limit of 10 parameters", "--max-params"});
  check_error(run_cli(generate(m) + " --max-ctx 5"), 1, {"config.n_ctx = 6 exceeds the limit of 5", "--max-ctx"});
  // A long-context model (sinusoidal, so the file stays small) needs --max-ctx raised.
  const std::string text = base();
  const auto wpe = text.find("  \"wpe.weight\"");
  const std::string long_ctx = with(with(text.substr(0, wpe) + text.substr(text.find('\n', wpe) + 1), R"("n_ctx": 6)", R"("n_ctx": 100000)"),
                                    R"("n_inner": 4})", R"("n_inner": 4, "positional": "sinusoidal"})");
  const std::string lm = s.file("long.json", long_ctx);
  check_error(run_cli(generate(lm)), 1, {"config.n_ctx = 100000 exceeds the limit of 65536 (raise it with --max-ctx)"});
  const auto ok = run_cli(generate(lm) + " --max-ctx 100000");
  INFO(ok.err);
  CHECK(ok.exit_code == 0);
  CHECK_FALSE(ok.out.empty());
}

// ---- Hugging Face checkpoints ---------------------------------------------------------------
// Written by tests/checkpoint_writer.h: a tiny GPT-2 folder, then one deliberate change.

namespace {

// A checkpoint folder "ckpt" in `s` whose model.safetensors holds `weights`.
std::string checkpoint(const Scratch& s, const std::string& weights,
                       const nlohmann::json& config = tiny_gpt2_config()) {
  const std::string dir = s.dir("ckpt");
  write_checkpoint(dir, config, tiny_gpt2_tensors());
  write_text(dir + "/model.safetensors", weights);
  return dir;
}

std::string good_weights() { return safetensors_file(tiny_gpt2_tensors()); }

// The good file with one header field of one tensor changed.
std::string weights_with(const std::string& tensor, const std::string& field, const nlohmann::json& value) {
  const auto ts = tiny_gpt2_tensors();
  auto header = safetensors_header(ts);
  header[tensor][field] = value;
  std::string data;
  for (const auto& t : ts) data += t.bytes;
  return safetensors_bytes(header.dump(), data);
}

}  // namespace

TEST_CASE("errors: safetensors header length past the end", "[errors]") {
  Scratch s;
  const std::string good = good_weights();
  check_error(run_cli(generate(checkpoint(s, le64(good.size()) + good.substr(8)))), 1,
              {"model.safetensors: the header length", "runs past the end of the file"});
  check_error(run_cli(generate(checkpoint(s, "abc"))), 1, {"too short for a safetensors file"});
}

TEST_CASE("errors: safetensors data truncated or offsets past the end", "[errors]") {
  Scratch s;
  const std::string good = good_weights();
  check_error(run_cli(generate(checkpoint(s, good.substr(0, good.size() - 3)))), 1,
              {"tensor ln_f.bias: data_offsets", "run past the end of the file", "truncated"});
  check_error(
      run_cli(generate(checkpoint(s, weights_with("wpe.weight", "data_offsets", {1u << 30, (1u << 30) + 128})))), 1,
      {"tensor wpe.weight: data_offsets [1073741824,1073741952] run past the end of the file"});
}

TEST_CASE("errors: safetensors tensors overlapping", "[errors]") {
  Scratch s;
  check_error(run_cli(generate(checkpoint(s, weights_with("wpe.weight", "data_offsets", {0, 128})))), 1,
              {"tensors wte.weight and wpe.weight overlap in the file"});
}

TEST_CASE("errors: safetensors unknown dtype, or one tiny-gpt does not read", "[errors]") {
  Scratch s;
  check_error(run_cli(generate(checkpoint(s, weights_with("wpe.weight", "dtype", "Q4")))), 1,
              {"tensor wpe.weight has an unknown dtype \"Q4\""});
  // I32 is a safetensors dtype (so the sizes check out) but not a weight type.
  check_error(run_cli(generate(checkpoint(s, weights_with("wpe.weight", "dtype", "I32")))), 1,
              {"tensor wpe.weight has dtype I32; tiny-gpt reads F32, F16 and BF16 weights"});
  // A shape that does not match the byte range.
  check_error(run_cli(generate(checkpoint(s, weights_with("wpe.weight", "shape", {8, 5})))), 1,
              {"tensor wpe.weight: data_offsets", "hold 128 bytes, but shape [8, 5] of F32 needs 160"});
}

TEST_CASE("errors: safetensors header not JSON", "[errors]") {
  Scratch s;
  check_error(run_cli(generate(checkpoint(s, safetensors_bytes("{\"wte.weight\": [", "")))), 1,
              {"model.safetensors: the header is not JSON"});
}

TEST_CASE("errors: checkpoint missing tensor or wrong shape", "[errors]") {
  Scratch s;
  auto ts = tiny_gpt2_tensors();
  std::erase_if(ts, [](const StTensor& t) { return t.name == "h.1.ln_2.bias"; });
  check_error(run_cli(generate(checkpoint(s, safetensors_file(ts)))), 1, {"missing tensor h.1.ln_2.bias (shape [4])"});
  ts.push_back({"h.1.ln_2.bias", "F32", {2, 2}, f32_bytes({1, 2, 3, 4})});
  check_error(run_cli(generate(checkpoint(s, safetensors_file(ts)))), 1,
              {"wrong shape for h.1.ln_2.bias: got [2, 2], expected [4]"});
}

TEST_CASE("errors: checkpoint config disagreeing with the tensors", "[errors]") {
  Scratch s;
  auto config = tiny_gpt2_config();
  config["n_embd"] = 8;
  check_error(run_cli(generate(checkpoint(s, good_weights(), config))), 1,
              {"model.safetensors: wrong shape for wte.weight: got [259, 4], expected [259, 8]"});
  config = tiny_gpt2_config();
  config["tie_word_embeddings"] = false;
  check_error(run_cli(generate(checkpoint(s, good_weights(), config))), 1, {"missing tensor lm_head.weight"});
  config = tiny_gpt2_config();
  config["vocab_size"] = 100;
  check_error(run_cli(generate(checkpoint(s, good_weights(), config))), 1,
              {"vocab.json has 259 entries but", "says vocab_size 100"});
}

TEST_CASE("errors: checkpoint config the engine cannot run", "[errors]") {
  Scratch s;
  const std::vector<std::pair<std::pair<std::string, nlohmann::json>, std::string>> cases = {
      {{"model_type", "llama"}, "config.json: model_type \"llama\" is not supported (tiny-gpt runs \"gpt2\")"},
      {{"scale_attn_by_inverse_layer_idx", true},
       "config.json: scale_attn_by_inverse_layer_idx = true is not supported"},
      {{"activation_function", "silu"}, "config.json: activation_function \"silu\" is not supported"},
      {{"bos_token_id", 7}, "config.json: bos_token_id 7 disagrees with the tokenizer"},
  };
  for (const auto& [field, says] : cases) {
    auto config = tiny_gpt2_config();
    config[field.first] = field.second;
    INFO(field.first);
    check_error(run_cli(generate(checkpoint(s, good_weights(), config))), 1, {says});
  }
}

TEST_CASE("errors: checkpoint with a non-finite F16 or BF16 value", "[errors]") {
  Scratch s;
  for (const auto& [dtype, inf] : {std::pair{std::string("F16"), std::string("\x00\x7c", 2)},
                                   std::pair{std::string("BF16"), std::string("\xc0\x7f", 2)}}) {
    auto ts = tiny_gpt2_tensors();
    for (auto& t : ts)
      if (t.name == "h.0.attn.c_attn.weight") {
        t.dtype = dtype;
        t.bytes = std::string(t.bytes.size() / 2, '\0');
        t.bytes.replace(2 * 5, 2, inf);  // value 5: +inf (F16), NaN (BF16)
      }
    INFO(dtype);
    check_error(run_cli(generate(checkpoint(s, safetensors_file(ts)))), 1,
                {"tensor h.0.attn.c_attn.weight: value 5 is not finite"});
  }
}

TEST_CASE("errors: checkpoint tokenizer.json tiny-gpt cannot read", "[errors]") {
  Scratch s;
  const std::string dir = checkpoint(s, good_weights());
  fs::remove(dir + "/vocab.json");
  auto j = tokenizer_json(false);
  j["model"]["type"] = "WordPiece";
  write_text(dir + "/tokenizer.json", j.dump());
  check_error(run_cli(generate(dir)), 1, {"tokenizer.json: model.type \"WordPiece\" is not supported (tiny-gpt reads \"BPE\")"});
  j = tokenizer_json(false);
  j["pre_tokenizer"]["add_prefix_space"] = true;
  write_text(dir + "/tokenizer.json", j.dump());
  check_error(run_cli(generate(dir)), 1, {"tokenizer.json: pre_tokenizer.add_prefix_space = true is not supported"});
  write_text(dir + "/tokenizer.json", "{\"model\": ");
  check_error(run_cli(generate(dir)), 1, {"tokenizer.json: not valid JSON"});
}

TEST_CASE("errors: checkpoint folder without config.json, weights or tokenizer", "[errors]") {
  Scratch s;
  const std::string dir = checkpoint(s, good_weights());
  fs::remove(dir + "/vocab.json");
  check_error(run_cli(generate(dir)), 1, {"ckpt has no tokenizer: it needs vocab.json and merges.txt"});
  fs::remove(dir + "/model.safetensors");
  check_error(run_cli(generate(dir)), 1, {"ckpt: no model.safetensors in the checkpoint folder"});
  check_error(run_cli(generate(s.file("lone.safetensors", good_weights()))), 1,
              {"lone.safetensors: no config.json beside it"});
}

// ---- what people type -----------------------------------------------------------------

TEST_CASE("errors: prompt with invalid UTF-8", "[errors]") {
  Scratch s;
  const std::string m = quote(s.file("model.json", base())), bpe = quote(s.file("bpe.json", base_bpe()));
  const std::pair<std::string, std::string> bad[] = {
      {"\"$(printf 'a\\377')\"", "byte offset 1 (byte 0xFF)"},        // never valid
      {"\"$(printf 'a\\342\\202')\"", "byte offset 1 (byte 0xE2)"},   // truncated sequence
      {"\"$(printf '\\300\\257')\"", "byte offset 0 (byte 0xC0)"},    // overlong '/'
      {"\"$(printf '\\355\\240\\200')\"", "byte offset 0 (byte 0xED)"},  // a surrogate
  };
  for (const auto& [text, says] : bad) {
    INFO(text);
    check_error(run_cli("generate -m " + m + " " + text), 1, {"invalid UTF-8", says});
    check_error(run_cli("generate -m " + bpe + " " + text), 1, {"invalid UTF-8", says});
    check_error(run_cli("tokenize -m " + bpe + " " + text), 1, {"invalid UTF-8", says});
    check_error(run_cli("attention-dump -m " + m + " " + text), 1, {"invalid UTF-8", says});
    check_error(run_cli("embed -m " + m + " " + text), 1, {"invalid UTF-8", says});
  }
  const std::string file = s.file("text.txt", "ab\xff");
  check_error(run_cli("perplexity -m " + m + " -f " + quote(file)), 1, {"invalid UTF-8 at byte offset 2"});
}

TEST_CASE("errors: prompt with NUL or control bytes", "[errors]") {
  // A command-line argument cannot hold a NUL (the shell drops it, C strings end there);
  // a text file can: NUL is valid UTF-8, so it is text like any other character.
  Scratch s;
  const std::string m = quote(s.file("model.json", base())), bpe = quote(s.file("bpe.json", base_bpe()));
  const std::string nul = quote(s.file("nul.txt", std::string("a\0b", 3)));
  check_error(run_cli("perplexity -m " + m + " -f " + nul), 1, {"character U+0000 at byte offset 1 is not in the model's vocabulary"});
  const auto ok = run_cli("perplexity -m " + bpe + " -f " + nul);
  INFO(ok.err);
  CHECK(ok.exit_code == 0);
  check_error(run_cli("generate -m " + m + " \"$(printf 'a\\001')\""), 1, {"character U+0001 at byte offset 1"});
  check_error(run_cli("generate -m " + m + " \"$(printf 'a\\033[31m')\""), 1, {"character U+001B at byte offset 1"});
  const auto bpe_ok = run_cli("tokenize -m " + bpe + " \"$(printf 'a\\001\\033b')\" --count");
  CHECK(bpe_ok.exit_code == 0);
  CHECK(bpe_ok.out == "4\n");
}

TEST_CASE("errors: character the vocabulary lacks", "[errors]") {
  Scratch s;
  const std::string m = quote(s.file("model.json", base()));
  check_error(run_cli("generate -m " + m + " abx"), 1, {"character 'x' (U+0078) at byte offset 2 is not in the model's vocabulary"});
  check_error(run_cli("attention-dump -m " + m + " 新"), 1, {"character '新' (U+65B0) at byte offset 0"});
  // The special tokens' names are not characters of the text.
  check_error(run_cli("generate -m " + m + " '<bos>'"), 1, {"character '<' (U+003C)"});
}

TEST_CASE("errors: prompt longer than the context", "[errors]") {
  Scratch s;
  const std::string m = quote(s.file("model.json", base()));  // n_ctx 6, bos counts
  check_error(run_cli("generate -m " + m + " aaaaaa"), 1, {"the prompt is 7 tokens long but the model's context holds 6"});
  check_error(run_cli("attention-dump -m " + m + " aaaaaaaa"), 1, {"9 tokens long but the model's context holds 6"});
  const auto fits = run_cli("generate -m " + m + " aaaaa --json");
  CHECK(fits.exit_code == 0);
  CHECK_THAT(fits.out, Contains("context_full"));
}

TEST_CASE("errors: empty input", "[errors]") {
  Scratch s;
  const std::string m = quote(s.file("model.json", base()));
  const std::string nobos = quote(s.file("nobos.json", with(base(), R"(["<bos>", "<eos>", "a", "b", " "], "bos_token": "<bos>", )",
                                                            R"(["<eos>", "a", "b", " "], )")));
  check_error(run_cli("generate -m " + nobos + " ''"), 1, {"the prompt is empty and the model has no bos_token"});
  check_error(run_cli("attention-dump -m " + nobos + " ''"), 1, {"empty"});
  check_error(run_cli("embed -m " + m + " ''"), 1, {"the word is empty"});
  check_error(run_cli("perplexity -m " + m + " -f " + quote(s.file("empty.txt", ""))), 1, {"has no text to score"});
  // Not errors: a model with bos generates from bos alone; an empty text has no tokens.
  CHECK(run_cli("generate -m " + m + " '' -n 2").exit_code == 0);
  const auto count = run_cli("tokenize -m " + m + " '' --count");
  CHECK(count.exit_code == 0);
  CHECK(count.out == "0\n");
}

// ---- flags ------------------------------------------------------------------------------

TEST_CASE("errors: bad sampling flags", "[errors]") {
  Scratch s;
  const std::string g = "generate -m " + quote(s.file("model.json", base())) + " a ";
  const Cases cases = {
      {"--temperature -1", "--temperature must be a number >= 0"},
      {"--temperature nan", "--temperature must be a number >= 0"},
      {"--temperature inf", "--temperature must be a number >= 0"},
      {"--temperature abc", "--temperature"},
      {"--top-p 0", "--top-p must be in (0, 1]"},
      {"--top-p 1.5", "--top-p must be in (0, 1]"},
      {"--top-p -0.5", "--top-p must be in (0, 1]"},
      {"--top-p nan", "--top-p must be in (0, 1]"},
      {"--top-k -1", "--top-k must be >= 0"},
      {"--top-k 1.5", "--top-k"},
      {"-n -1", "--max-new-tokens must be >= 0"},
      {"-n 99999999999", "--max-new-tokens"},
      {"--top-logprobs -1", "--top-logprobs must be >= 0"},
      {"--seed -1", "--seed: must be a whole number >= 0, got \"-1\""},
      {"--seed 1.5", "--seed"},
  };
  check_each(cases, 2, g);
}

TEST_CASE("errors: bad limit flags", "[errors]") {
  Scratch s;
  const std::string g = "generate -m " + quote(s.file("model.json", base())) + " a ";
  const Cases cases = {
      {"--max-params 0", "--max-params: must be a whole number >= 1, got \"0\""},
      {"--max-params -5", "--max-params: must be a whole number >= 1, got \"-5\""},
      {"--max-params 1e9", "--max-params: must be a whole number >= 1"},
      {"--max-params 99999999999999999999", "--max-params"},
      {"--max-ctx 0", "--max-ctx: must be a whole number >= 1"},
      {"--max-ctx -1", "--max-ctx: must be a whole number >= 1"},
      {"--max-ctx 99999999999", "--max-ctx"},
  };
  check_each(cases, 2, g);
}

TEST_CASE("errors: unknown, missing or extra arguments", "[errors]") {
  Scratch s;
  const std::string m = quote(s.file("model.json", base()));
  const Cases cases = {
      {"", "A subcommand is required"},
      {"bogus", "A subcommand is required"},
      {"generate -m " + m, "prompt is required"},
      {"generate -m " + m + " a b", "The following argument was not expected: b"},
      {"generate -m " + m + " a --bogus", "--bogus"},
      {"generate -m " + m + " a --temperature", "--temperature: 1 required"},
      {"generate a -m", "-m"},
      {"--bogus generate a", "--bogus"},
  };
  check_each(cases, 2, "", "(try --help)");
}

TEST_CASE("errors: contradictory or out-of-range subcommand flags", "[errors]") {
  Scratch s;
  const std::string m = quote(s.file("model.json", base()));
  const Cases cases = {
      {"attention-dump -m " + m + " ab --layer 1", "--layer 1 is out of range: the model has 1 layer"},
      {"attention-dump -m " + m + " ab --head 2", "--head 2 is out of range: the model has 2 heads"},
      {"attention-dump -m " + m + " ab --head -1", "--head -1 is out of range"},
      {"attention-dump -m " + m + " ab --format bogus", "--format: bogus not in"},
      {"attention-dump -m " + m + " ab --json --format svg", "--json contradicts --format svg"},
      {"attention-dump -m " + m + " ab --include-qkv", "--include-qkv"},
      {"attention-dump -m " + m + " ab --format npy", "--format npy is binary: give a file with -o"},
      {"tokenize -m " + m + " ab --json --count", "--json excludes --count"},
      {"tokenize --vocab x.json ab", "--vocab requires --merges"},
      {"tokenize -m " + m + " --vocab x.json --merges y.bpe ab", "excludes"},
      {"embed -m " + m + " a --plot-neighbors 2", "--plot-neighbors: only with --plot"},
  };
  check_each(cases, 2);
}

TEST_CASE("errors: thread counts and bench sizes out of range", "[errors]") {
  Scratch s;
  const std::string m = quote(s.file("model.json", base()));
  const Cases cases = {
      // 100000 threads once aborted the process (a std::thread failing to start while
      // others were already running); now the flag is refused before anything starts.
      {"generate -m " + m + " a -t 100000", "--threads: must be a whole number from 0 to 256, got \"100000\""},
      {"generate -m " + m + " a -t -1", "--threads: must be a whole number from 0 to 256"},
      {"bench -m " + m + " -t 257", "--threads: must be a whole number from 0 to 256"},
      // The sum once overflowed an int and slipped past the n_ctx check.
      {"bench -m " + m + " -p 2147483647 -n 2147483647", "-p 2147483647 plus -n 2147483647 exceeds the model's n_ctx of 6"},
      {"bench -m " + m + " -p 2147483648", "--prompt-tokens: must be a whole number from 1 to 2147483647"},
      {"bench -m " + m + " -p 0", "--prompt-tokens: must be a whole number from 1"},
      {"bench -m " + m + " -n -1", "--decode-tokens: must be a whole number from 0"},
      {"bench -m " + m + " -r 0", "--reps: must be a whole number from 1"},
      {"embed -m " + m + " a --neighbors -1", "--neighbors: must be a whole number >= 1, got \"-1\""},
      {"embed -m " + m + " a --position -1", "--position: must be a whole number from 0"},
  };
  check_each(cases, 2);
}

TEST_CASE("errors: ThreadPool refuses more threads than it can use", "[errors]") {
  try {
    tinygpt::ThreadPool pool(tinygpt::ThreadPool::kMaxThreads + 1);
    FAIL("no error");
  } catch (const tinygpt::Error& e) {
    CHECK(e.kind() == tinygpt::ErrorKind::usage);
    CHECK_THAT(e.what(), Catch::Contains("257 is more than the 256"));
  }
  tinygpt::ThreadPool pool(tinygpt::ThreadPool::kMaxThreads);  // the maximum itself starts
  CHECK(pool.size() == tinygpt::ThreadPool::kMaxThreads);
}

TEST_CASE("errors: an empty file name", "[errors]") {
  Scratch s;
  const std::string m = quote(s.file("model.json", base()));
  const Cases cases = {
      // Once written to stdout as if -o had not been given.
      {"attention-dump -m " + m + " ab -o ''", "--output: the file name is empty"},
      {"generate -m '' a", "--model: the file name is empty"},
      {"embed -m " + m + " a --plot ''", "--plot: the file name is empty"},
      {"embed -m " + m + " a --export ''", "--export: the file name is empty"},
      {"perplexity -m " + m + " -f ''", "--file: the file name is empty"},
      {"tokenize --vocab '' --merges x.bpe ab", "--vocab: the file name is empty"},
  };
  check_each(cases, 2);
}

TEST_CASE("errors: a text or vocabulary file that is a device or a directory", "[errors]") {
  Scratch s;
  const std::string m = quote(s.file("model.json", base()));
  const std::string d = quote(s.dir("adir"));
  const std::string bpe = quote(fixture("tokenizer/gpt2/vocab.bpe")), enc = quote(fixture("tokenizer/gpt2/encoder.json"));
  const Cases cases = {
      // /dev/zero never ends: it is read up to the ceiling, not until the memory runs out.
      {"perplexity -m " + m + " -f /dev/zero", "/dev/zero is larger than the 256 MiB this reads"},
      {"perplexity -m " + m + " -f " + d, "adir is a directory, not a file"},
      {"perplexity -m " + m + " -f " + quote(s.path("missing.txt")), "cannot open " + s.path("missing.txt") + ": No such file"},
      {"tokenize --vocab /dev/zero --merges " + bpe + " ab", "/dev/zero is larger than the 64 MiB this reads"},
      {"tokenize --vocab " + enc + " --merges /dev/zero ab", "/dev/zero is larger than the 64 MiB this reads"},
      {"tokenize --vocab " + d + " --merges " + bpe + " ab", "adir is a directory, not a file"},
  };
  check_each(cases, 1);
}

TEST_CASE("errors: a GPT-2 encoder.json listing a token twice", "[errors]") {
  Scratch s;
  // nlohmann would keep the second "a" silently; the vocabulary is refused instead.
  const std::string enc = s.file("encoder.json", R"({"a": 0, "b": 1, "a": 2})");
  const std::string bpe = s.file("vocab.bpe", "#version: 0.2\n");
  check_error(run_cli("tokenize --vocab " + quote(enc) + " --merges " + quote(bpe) + " ab"), 1,
              {"encoder.json has the key \"a\" twice"});
}

TEST_CASE("errors: hostile text in a path or flag value stays on one line", "[errors]") {
  // A newline, a terminal escape and a byte that is not UTF-8, in the model name.
  const auto r = run_cli("generate -m \"$(printf 'x\\033[31m\\ny\\377')\" a");
  check_error(r, 1, {"not found", "x\\x1B[31m y\xEF\xBF\xBD"});
}

// ---- output files -----------------------------------------------------------------------

TEST_CASE("errors: output file in a missing directory", "[errors]") {
  Scratch s;
  const std::string m = quote(s.file("model.json", base()));
  check_error(run_cli("attention-dump -m " + m + " ab -o " + quote(s.path("missing/out.json"))), 1,
              {"cannot write", "missing/out.json", "No such file or directory"});
  check_error(run_cli("embed -m " + m + " a b --plot " + quote(s.path("missing/map.svg"))), 1,
              {"cannot write", "missing/map.svg", "No such file or directory"});
  check_error(run_cli("embed -m " + m + " --export " + quote(s.path("missing/dir"))), 1, {"does not exist"});
  CHECK(s.entries() == std::set<std::string>{"model.json"});
}

TEST_CASE("errors: output directory not writable", "[errors]") {
  Scratch s;
  const std::string m = quote(s.file("model.json", base()));
  // A path through a regular file: unwritable for root too.
  check_error(run_cli("attention-dump -m " + m + " ab -o " + quote(s.path("model.json/out.json"))), 1, {"cannot write", "Not a directory"});
  check_error(run_cli("embed -m " + m + " a b --plot " + quote(s.path("model.json/map.svg"))), 1, {"cannot write", "Not a directory"});
  check_error(run_cli("attention-dump -m " + m + " ab -o /proc/out.json"), 1, {"cannot write /proc/out.json"});
  // A directory we may not write to: as a user a 0555 directory; as root, run as nobody.
  const std::string locked = s.dir("locked");
  if (::geteuid() != 0) {
    ::chmod(locked.c_str(), 0555);
    check_error(run_cli("attention-dump -m " + m + " ab -o " + quote(locked + "/out.json")), 1, {"cannot write", "Permission denied"});
  } else if (can_run_as_nobody()) {
    check_error(run_sh(kAsNobody, "attention-dump -m " + m + " ab -o " + quote(locked + "/out.json")), 1,
                {"cannot write", "Permission denied"});
  } else {
    WARN("SKIP: running as root without setpriv: no directory is unwritable to us");
  }
  // A read-only file system (a read-only bind mount; needs root).
  const std::string ro = s.dir("ro");
  TmpfsMount bind(ro, 0, /*read_only=*/true);
  if (bind.mounted()) {
    check_error(run_cli("attention-dump -m " + m + " ab -o " + quote(ro + "/out.json")), 1, {"cannot write", "Read-only file system"});
  } else {
    WARN("SKIP: cannot bind-mount here (not root, or no CAP_SYS_ADMIN): no read-only file system case");
  }
  CHECK(s.entries() == std::set<std::string>{"model.json", "locked", "ro"});
}

TEST_CASE("errors: output path is a directory", "[errors]") {
  Scratch s;
  const std::string m = quote(s.file("model.json", base()));
  const std::string dir = s.dir("out.json");
  check_error(run_cli("attention-dump -m " + m + " ab -o " + quote(dir)), 1, {"cannot write", "it is a directory"});
  check_error(run_cli("embed -m " + m + " a b --plot " + quote(dir)), 1, {"it is a directory"});
  check_error(run_cli("embed -m " + m + " --export " + m), 1, {"exists and is not a directory"});
  CHECK(s.entries() == std::set<std::string>{"model.json", "out.json"});
}

TEST_CASE("errors: disk full while writing an output file", "[errors]") {
  Scratch s;
  const std::string m = quote(s.file("model.json", base()));
  const std::string args = "attention-dump -m " + m + " ab --format html -o ";  // about 13 kB of output

  // A full disk: a 64 kB tmpfs, filled up, holding an older version of the output.
  const std::string disk = s.dir("disk");
  TmpfsMount tmpfs(disk, 64);
  if (tmpfs.mounted()) {
    s.file("disk/out.html", "old");
    std::system(("dd if=/dev/zero of=" + quote(disk + "/filler") + " bs=1k count=1000 2>/dev/null").c_str());
    check_error(run_cli(args + quote(disk + "/out.html")), 1, {"cannot write", "out.html", "No space left on device"});
    CHECK(read_file(disk + "/out.html") == "old");
    CHECK(s.entries("disk") == std::set<std::string>{"filler", "out.html"});
  } else {
    WARN("SKIP: cannot mount a tmpfs here (not root, or no CAP_SYS_ADMIN): the file-size limit below stands in for it");
  }

  // A file-size limit (ulimit -f, in 512-byte blocks) fails the write the same way, anywhere.
  s.file("out.html", "old");
  check_error(run_sh("ulimit -f 8;", args + quote(s.path("out.html"))), 1, {"cannot write", "out.html", "File too large"});
  CHECK(read_file(s.path("out.html")) == "old");
  const auto left = s.entries();
  CHECK(std::none_of(left.begin(), left.end(), is_temporary));
}

TEST_CASE("errors: standard output cannot be written", "[errors]") {
  Scratch s;
  const std::string m = quote(s.file("model.json", base()));
  check_error(run_sh("", "tokenize -m " + m + " ab", "/dev/full"), 1, {"cannot write to standard output"});
  const auto gen = run_sh("", "generate -m " + m + " ab -n 3 --temperature 0", "/dev/full");
  CHECK(gen.exit_code == 1);
  CHECK_THAT(gen.err, Contains("tiny-gpt: error: cannot write to standard output"));
}

TEST_CASE("errors: write_file_atomically leaves nothing behind when a write fails", "[errors][output]") {
  Scratch s;
  const std::string target = s.file("out.bin", "old");
  // In a child process: a 4 kB file-size limit, SIGXFSZ ignored so that write() fails with EFBIG.
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::signal(SIGXFSZ, SIG_IGN);
    const rlimit limit{4096, 4096};
    ::setrlimit(RLIMIT_FSIZE, &limit);
    try {
      tinygpt::write_file_atomically(target, std::string(100000, 'x'));
    } catch (const tinygpt::Error& e) {
      const bool named = std::string(e.what()).find("cannot write " + target + ": File too large") != std::string::npos;
      ::_exit(e.kind() == tinygpt::ErrorKind::io && named ? 42 : 1);
    } catch (...) {
      ::_exit(2);
    }
    ::_exit(3);
  }
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 42);
  CHECK(read_file(target) == "old");
  CHECK(s.entries() == std::set<std::string>{"out.bin"});
  // And when it works, the new content replaces the old whole.
  tinygpt::write_file_atomically(target, "new");
  CHECK(read_file(target) == "new");
  CHECK(s.entries() == std::set<std::string>{"out.bin"});
}
