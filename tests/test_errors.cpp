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
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "checkpoint_writer.h"
#include "helpers.h"
#include "output_file.h"
#include "thread_pool.h"
#include "tinygpt/error.h"

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
  // Names of everything below `sub`, hidden temporary files included; a symlink by its own
  // name (lexically: fs::relative would resolve it, or throw on a loop).
  std::set<std::string> entries(const std::string& sub = "") const {
    std::set<std::string> names;
    const fs::path base = sub.empty() ? dir_ : path(sub);
    for (const auto& e : fs::recursive_directory_iterator(base))
      names.insert(e.path().lexically_relative(base).string());
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

// Whether this process may mount (root with CAP_SYS_ADMIN, as in CI): a tmpfs tried once.
bool can_mount() {
  char tmpl[] = "/tmp/tinygpt-mount-XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) return false;
  bool ok = false;
  {
    const TmpfsMount probe(tmpl, 16);
    ok = probe.mounted();
  }
  ::rmdir(tmpl);
  return ok;
}

bool is_temporary(const std::string& name) { return name.find(".tmp-") != std::string::npos; }

}  // namespace

// ---- the model file ---------------------------------------------------------------------

TEST_CASE("errors: model file missing", "[errors]") {
  Scratch s;
  check_error(run_cli(generate(s.path("nope.json"))), 1,
              {"cannot open model file", "nope.json", "No such file or directory"});
  // A bare name is looked up among the shipped models, and the message says where.
  check_error(run_cli(generate("no-such-model")), 1, {"model \"no-such-model\" not found", "looked in"});
}

TEST_CASE("errors: model file unreadable", "[errors]") {
  // Root reads anything: as root this runs as nobody, which needs setpriv.
  if (::geteuid() == 0 && !can_run_as_nobody())
    return skip_test("running as root without setpriv, so no file is unreadable to us");
  Scratch s;
  const std::string path = s.file("model.json", base());
  ::chmod(path.c_str(), 0);
  check_error(run_sh(::geteuid() == 0 ? kAsNobody : "", generate(path)), 1,
              {"cannot open model file", "Permission denied"});
}

TEST_CASE("errors: model path through a regular file", "[errors]") {
  Scratch s;
  const std::string path = s.file("model.json", base());
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

TEST_CASE("errors: model path is a dangling symlink or a symlink loop", "[errors]") {
  Scratch s;
  fs::create_symlink("gone.json", s.path("dangling.json"));
  check_error(run_cli(generate(s.path("dangling.json"))), 1,
              {"dangling.json is a symbolic link to gone.json, which does not exist"});
  fs::create_symlink("loop-b.json", s.path("loop-a.json"));
  fs::create_symlink("loop-a.json", s.path("loop-b.json"));
  check_error(run_cli(generate(s.path("loop-a.json"))), 1, {"loop-a.json is a symbolic link in a loop"});
  // A bare name that is a broken link in the current directory is that link, not a shipped model.
  check_error(run_sh("cd " + quote(s.path("")) + " &&", generate("dangling.json")), 1,
              {"is a symbolic link to gone.json"});
}

TEST_CASE("errors: a byte-order mark is refused in every file we read", "[errors]") {
  // One message for all three: model files never took a BOM, and nlohmann would skip it
  // in encoder.json, so that a file worked in one place and not the other.
  const std::string says = "starts with a byte-order mark (bytes EF BB BF)";
  Scratch s;
  check_error(run_cli(generate(s.file("model.json", "\xEF\xBB\xBF" + base()))), 1, {"model.json " + says});
  const std::string enc = read_file(fixture("tokenizer/gpt2/encoder.json")),
                    bpe = read_file(fixture("tokenizer/gpt2/vocab.bpe"));
  const std::string enc_bom = s.file("encoder.json", "\xEF\xBB\xBF" + enc),
                    bpe_bom = s.file("vocab.bpe", "\xEF\xBB\xBF" + bpe);
  const std::string enc_ok = s.file("ok.json", enc), bpe_ok = s.file("ok.bpe", bpe);
  check_error(run_cli("tokenize --vocab " + quote(enc_bom) + " --merges " + quote(bpe_ok) + " ab"), 1,
              {"encoder.json " + says});
  check_error(run_cli("tokenize --vocab " + quote(enc_ok) + " --merges " + quote(bpe_bom) + " ab"), 1,
              {"vocab.bpe " + says});
  CHECK(run_cli("tokenize --vocab " + quote(enc_ok) + " --merges " + quote(bpe_ok) + " ab").exit_code == 0);
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
  check_model_error(base() + "}", {"extra text after the top-level object"});
  check_model_error(with(base(), "\"a\", \"b\"", "\"a\", \"\xff\""), {"invalid UTF-8 inside a string"});
}

TEST_CASE("errors: JSON that is not a model", "[errors]") {
  check_model_error(R"({"name": "left-pad", "version": "1.3.0", "dependencies": {}})",
                    {"not a tiny-gpt weights file (no \"format\" field)"});
  check_model_error("{}", {"not a tiny-gpt weights file"});
  check_model_error("[1, 2, 3]", {"a tiny-gpt weights file is a JSON object"});
  check_model_error("null", {"a tiny-gpt weights file is a JSON object"});
}

TEST_CASE("errors: wrong format", "[errors]") {
  check_model_error(with(base(), R"("format": "tiny-gpt")", R"("format": "gguf")"),
                    {"not a tiny-gpt weights file (format is \"gguf\""});
  check_model_error(with(base(), R"("format": "tiny-gpt")", R"("format": 1)"),
                    {"not a tiny-gpt weights file (format is 1"});
}

TEST_CASE("errors: unknown or missing version", "[errors]") {
  check_model_error(with(base(), R"("version": 1)", R"("version": 3)"),
                    {"unsupported version 3 (this build reads versions 1 and 2)"});
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
  check_model_error(with(base(), R"("vocab": ["<bos>", "<eos>", "a", "b", " "], )", ""),
                    {"tokenizer.vocab must be a list"});
  check_model_error(text.substr(0, text.find(",\n \"tensors\"")) + "\n}\n", {"missing tensor wte.weight"});
}

TEST_CASE("errors: wrongly typed config field", "[errors]") {
  check_model_error(with(base(), R"("n_embd": 4)", R"("n_embd": "4")"),
                    {"config.n_embd must be an integer, found \"4\""});
  check_model_error(with(base(), R"("n_embd": 4)", R"("n_embd": 4.5)"),
                    {"config.n_embd must be an integer, found 4.5"});
  check_model_error(with(base(), R"("n_embd": 4)", R"("n_embd": null)"), {"config.n_embd is missing"});
  check_model_error(with(base(), R"("n_inner": 4})", R"("n_inner": 4, "tie_word_embeddings": "yes"})"),
                    {"config.tie_word_embeddings must be true or false"});
  check_model_error(with(base(), R"("n_inner": 4})", R"("n_inner": 4, "positional": "rotary"})"),
                    {"config.positional = \"rotary\" is not one of \"learned\", \"sinusoidal\""});
  check_model_error(with(base(), R"("n_inner": 4})", R"("n_inner": 4, "activation": 3})"),
                    {"config.activation must be one of"});
  check_model_error(with(base(), R"("n_inner": 4})", R"("n_inner": 4, "layer_norm_epsilon": -1})"),
                    {"config.layer_norm_epsilon must be a positive number"});
  const std::string text = base();
  const auto config = text.find("\"config\": ") + 10;
  check_model_error(text.substr(0, config) + "[]" + text.substr(text.find('}', config) + 1),
                    {"\"config\" must be an object"});
  check_model_error(with(base(), R"("type": "char")", R"("type": "sentencepiece")"),
                    {"unknown tokenizer.type \"sentencepiece\""});
}

TEST_CASE("errors: config values that do not fit float32", "[errors]") {
  // The layer norms run in float32: 1e39 would be inf there, 1e-50 would be 0 (and an
  // all-zero row would then be 0/0).
  check_model_error(with(base(), R"("n_inner": 4})", R"("n_inner": 4, "layer_norm_epsilon": 1e39})"),
                    {"config.layer_norm_epsilon = 1e+39 does not fit float32 (it would be infinite)"});
  check_model_error(with(base(), R"("n_inner": 4})", R"("n_inner": 4, "layer_norm_epsilon": 1e-50})"),
                    {"config.layer_norm_epsilon = 1e-50 does not fit float32 (it would be 0)"});
}

TEST_CASE("errors: duplicate keys", "[errors]") {
  check_model_error(with(base(), " \"version\": 1,\n", " \"version\": 1,\n \"version\": 1,\n"),
                    {"top-level field \"version\" appears twice"});
  check_model_error(with(base(), R"("n_head": 2)", R"("n_head": 2, "n_head": 1)"),
                    {"\"config\" has the key \"n_head\" twice"});
  check_model_error(with(base(), R"("eos_token": "<eos>")", R"("eos_token": "<eos>", "eos_token": "a")"),
                    {"\"tokenizer\" has the key \"eos_token\" twice"});
  check_model_error(with(base(), R"("ln_f.bias": {"shape": [4], )", R"("ln_f.bias": {"shape": [4], "shape": [4], )"),
                    {"tensor ln_f.bias: field \"shape\" appears twice"});
}

TEST_CASE("errors: zero or negative sizes", "[errors]") {
  check_model_error(with(base(), R"("vocab_size": 5)", R"("vocab_size": 0)"),
                    {"config.vocab_size = 0 is out of range"});
  check_model_error(with(base(), R"("n_head": 2)", R"("n_head": 0)"), {"config.n_head = 0 is out of range"});
  check_model_error(with(base(), R"("n_ctx": 6)", R"("n_ctx": -6)"), {"config.n_ctx = -6 is out of range"});
  check_model_error(with(base(), R"("n_inner": 4)", R"("n_inner": 0)"), {"config.n_inner = 0 is out of range"});
  check_model_error(with(base(), R"("ln_f.bias": {"shape": [4])", R"("ln_f.bias": {"shape": [0])"),
                    {"tensor ln_f.bias: shape [0] must hold positive integers"});
  check_model_error(with(base(), R"("ln_f.bias": {"shape": [4])", R"("ln_f.bias": {"shape": [-4])"),
                    {"must hold positive integers"});
  check_model_error(with(base(), R"("ln_f.bias": {"shape": [4])", R"("ln_f.bias": {"shape": [])"),
                    {"must have 1 or 2 dimensions"});
  check_model_error(with(base(), R"("ln_f.bias": {"shape": [4])", R"("ln_f.bias": {"shape": [1, 1, 4])"),
                    {"must have 1 or 2 dimensions"});
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
  check_error(run(with(base(), R"("vocab_size": 5)", R"("vocab_size": 1e300)")), 1,
              {"config.vocab_size must be an integer"});
  // Sinusoidal positions are computed from the config alone (n_ctx x n_embd, 2.4 GB here):
  // a file that lacks the tensors to back that config must be refused before the table is built.
  const int D = 9128;
  std::string wte = "[";
  for (int i = 0; i < 5 * D; ++i) wte += i ? ",0" : "0";
  wte += "]";
  std::string big =
      with(base(), R"("n_ctx": 6, "n_embd": 4, "n_head": 2, "n_layer": 1, "n_inner": 4})",
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
  check_error(run(with(base(), "\"ln_f.bias\"", claim)), 1,
              {"tensor zz: data has 2 values but shape [60000, 16000] needs 960000000"});
  const std::string b64 = R"("zz": {"shape": [60000, 16000], "b64": "AAAAAAAAAAA="},
  "ln_f.bias")";
  check_error(run(with(base(), "\"ln_f.bias\"", b64)), 1,
              {"tensor zz: b64 holds 2 values but shape [60000, 16000] needs 960000000"});
  // Over the parameter limit outright: refused at the shape.
  check_error(run(with(base(), "\"ln_f.bias\"", with(claim, "[60000, 16000]", "[2000000000, 2000000000]"))), 1,
              {"shape [2000000000, 2000000000] exceeds the limit of 1000000000 parameters"});
  check_error(run(with(base(), "\"ln_f.bias\"", with(claim, "[60000, 16000]", "[100000, 100000]"))), 1,
              {"shape [100000, 100000] exceeds the limit of 1000000000 parameters"});
}

TEST_CASE("errors: n_embd not divisible by n_head", "[errors]") {
  check_model_error(with(base(), R"("n_head": 2)", R"("n_head": 3)"),
                    {"config.n_embd = 4 is not divisible by config.n_head = 3"});
}

TEST_CASE("errors: missing tensor", "[errors]") {
  const std::string text = base();
  const auto at = text.find("  \"ln_f.bias\"");
  check_model_error(text.substr(0, at - 2) + "\n }\n}\n", {"missing tensor ln_f.bias (shape [4])"});
  check_model_error(with(base(), R"("h.0.attn.c_proj.bias")", R"("h.0.attn.c_proj.biass")"),
                    {"missing tensor h.0.attn.c_proj.bias"});
}

TEST_CASE("errors: duplicate tensor", "[errors]") {
  check_model_error(
      with(base(), "  \"ln_f.bias\"", "  \"ln_f.bias\": {\"shape\": [4], \"data\": [0, 0, 0, 0]},\n  \"ln_f.bias\""),
      {"tensor ln_f.bias appears twice"});
}

TEST_CASE("errors: unknown tensor, or one the config does not call for", "[errors]") {
  const std::string bias = R"({"shape": [4], "data": [0, 0, 0, 0]})";
  check_model_error(with(base(), "  \"ln_f.bias\"", "  \"h.1.ln_1.bias\": " + bias + ",\n  \"ln_f.bias\""),
                    {"unknown tensor h.1.ln_1.bias (the config does not call for it)"});
  check_model_error(with(base(), "  \"ln_f.bias\"",
                         "  \"lm_head.weight\": {\"shape\": [5, 4], \"data\": "
                         "[0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0]},\n  \"ln_f.bias\""),
                    {"tensor lm_head.weight is present but config.tie_word_embeddings is true"});
  check_model_error(with(base(), R"("n_inner": 4})", R"("n_inner": 4, "positional": "sinusoidal"})"),
                    {"tensor wpe.weight is present but config.positional is \"sinusoidal\""});
  check_model_error(
      with(base(), R"("ln_f.bias": {"shape": [4], "data")", R"("ln_f.bias": {"shape": [4], "scale": 1, "data")"),
      {"tensor ln_f.bias: unknown field \"scale\""});
  check_model_error(with(base(), R"("dtype": "f32")", R"("dtype": "f8")"),
                    {"tensor wpe.weight: dtype \"f8\" is not supported"});
  check_model_error(with(base(), R"("dtype": "f32")", R"("dtype": "f16")"),
                    {"tensor wpe.weight: dtype \"f16\" is only for the linear weights"});
}

TEST_CASE("errors: wrongly shaped tensor", "[errors]") {
  check_model_error(with(base(), R"("ln_f.bias": {"shape": [4])", R"("ln_f.bias": {"shape": [2, 2])"),
                    {"wrong shape for ln_f.bias: got [2, 2], expected [4]"});
  check_model_error(
      with(base(), R"("h.0.attn.c_attn.weight": {"shape": [4, 12])", R"("h.0.attn.c_attn.weight": {"shape": [12, 4])"),
      {"wrong shape for h.0.attn.c_attn.weight: got [12, 4], expected [4, 12]"});
  check_model_error(with(base(), R"("ln_f.bias": {"shape": [4])", R"("ln_f.bias": {"shape": "4")"),
                    {"\"shape\" must be a list of integers"});
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
  check_model_error(with(base(), R"("ln_f.bias": {"shape": [4], "data": [0.2, 0.35, -0.35, -0.2]})",
                         R"("ln_f.bias": {"shape": [4]})"),
                    {"tensor ln_f.bias has neither \"data\" nor \"b64\""});
}

TEST_CASE("errors: NaN, Infinity, strings or nested arrays in data", "[errors]") {
  const std::string at = R"("ln_f.bias": {"shape": [4], "data": [0.2)";
  auto first_value = [&](const std::string& v) {
    return with(base(), at, R"("ln_f.bias": {"shape": [4], "data": [)" + v);
  };
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

TEST_CASE("errors: tensor values beyond the range of a double", "[errors]") {
  // 1e309 and -1e99999 overflow a double too: they were once read as 0.
  const std::string at = R"("ln_f.bias": {"shape": [4], "data": [0.2)";
  auto first_value = [&](const std::string& v) {
    return with(base(), at, R"("ln_f.bias": {"shape": [4], "data": [)" + v);
  };
  check_model_error(first_value("1e309"), {"tensor ln_f.bias data[0] = 1e309 is too large for float32"});
  check_model_error(first_value("-1e99999"), {"tensor ln_f.bias data[0] = -1e99999 is too large for float32"});
  check_model_error(first_value("0.001e99999999999999999999"), {"is too large for float32"});
  // Too small for float32 is not out of range: it rounds to 0, as in any float parser.
  Scratch s;
  for (const char* tiny : {"1e-50", "1e-400", "-1e-99999"}) {
    INFO(tiny);
    CHECK(run_cli(generate(s.file("model.json", first_value(tiny)))).exit_code == 0);
  }
}

TEST_CASE("errors: bad base64", "[errors]") {
  const std::string text = base();
  const auto start = text.find("\"b64\": \"") + 8;
  const auto end = text.find('"', start);
  const std::string b64 = text.substr(start, end - start);
  auto with_b64 = [&](const std::string& s) { return text.substr(0, start) + s + text.substr(end); };
  check_model_error(with_b64(b64.substr(0, 5) + "*" + b64.substr(6)),
                    {"tensor wpe.weight: bad base64 character at byte"});
  check_model_error(with_b64(b64.substr(0, b64.size() - 1)),
                    {"tensor wpe.weight: bad base64 (length 127 is not a multiple of 4)"});
  check_model_error(with_b64(b64.substr(0, b64.size() - 4) + "AAA="),
                    {"base64 decodes to 95 bytes, not whole float32 values"});
  check_model_error(with_b64(b64.substr(0, 4) + "\\u0041" + b64.substr(10)), {"bad base64 character"});
  check_model_error(with_b64("AADAfw" + b64.substr(6)), {"tensor wpe.weight: value 0 is not finite"});  // a NaN
  check_model_error(with_b64("AACAfw" + b64.substr(6)), {"tensor wpe.weight: value 0 is not finite"});  // +Infinity
  check_model_error(text.substr(0, start - 1) + "17" + text.substr(end + 1),
                    {"tensor wpe.weight: \"b64\" must be a string"});
  check_model_error(
      with(text, R"([0.2, 0.35, -0.35, -0.2]})", R"([0.2, 0.35, -0.35, -0.2], "b64": "AAAAAAAAAAAAAAAAAAAAAA=="})"),
      {"tensor ln_f.bias has both \"data\" and \"b64\""});
}

TEST_CASE("errors: tokenizer vocabulary disagreeing with vocab_size", "[errors]") {
  check_model_error(with(base(), R"("vocab_size": 5)", R"("vocab_size": 4)"),
                    {"the tokenizer has 5 entries but config.vocab_size is 4"});
  check_model_error(with(base_bpe(), R"("vocab_size": 259)", R"("vocab_size": 258)"),
                    {"the tokenizer has 259 entries but config.vocab_size is 258"});
}

TEST_CASE("errors: duplicate vocabulary entries", "[errors]") {
  check_model_error(with(base(), R"("a", "b")", R"("a", "a")"), {"tokenizer.vocab has \"a\" twice (ids 2 and 3)"});
  check_model_error(with(base_bpe(), R"("ab": 256)", R"("ab": 256, "ab": 257)"),
                    {"\"tokenizer\" has the key \"ab\" twice"});
  check_model_error(with(base_bpe(), R"("ab": 256)", R"("ab": 255)"), {"tokenizer.vocab: id 255 is given to both"});
  check_model_error(with(base_bpe(), "\"a b\", \"\xC4\xA0 a\"", "\"a b\", \"a b\""),
                    {"tokenizer.merges[1]: the pair \"a b\" is listed twice"});
}

TEST_CASE("errors: merges naming unknown tokens", "[errors]") {
  check_model_error(with(base_bpe(), R"("a b")", R"("a zz")"),
                    {"tokenizer.merges[0]: token \"zz\" is not in the vocabulary"});
  check_model_error(with(base_bpe(), R"("a b")", R"("b a")"),
                    {"tokenizer.merges[0]: the merged token \"ba\" is not in the vocabulary"});
  check_model_error(with(base_bpe(), R"("a b")", R"("a b c")"),
                    {"tokenizer.merges[0] \"a b c\" is not two tokens separated by one space"});
  check_model_error(with(base_bpe(), R"("a b")", R"(7)"), {"tokenizer.merges[0] is not a string"});
  check_model_error(with(base_bpe(), R"("a b")", R"("<|endoftext|> a")"), {"is a special token"});
}

TEST_CASE("errors: bos, eos or unk naming tokens that do not exist", "[errors]") {
  check_model_error(with(base(), R"("bos_token": "<bos>")", R"("bos_token": "<s>")"),
                    {"tokenizer.bos_token \"<s>\" is not in the vocabulary"});
  check_model_error(with(base(), R"("eos_token": "<eos>")", R"("eos_token": "</s>")"),
                    {"tokenizer.eos_token \"</s>\" is not in the vocabulary"});
  check_model_error(with(base(), R"("eos_token": "<eos>")", R"("eos_token": "<eos>", "unk_token": "<unk>")"),
                    {"tokenizer.unk_token \"<unk>\" is not in the vocabulary"});
  check_model_error(with(base(), R"("eos_token": "<eos>")", R"("eos_token": 1)"),
                    {"tokenizer.eos_token must be a string"});
  check_model_error(with(base_bpe(), R"("bos_token": "<|endoftext|>")", R"("bos_token": "<s>")"),
                    {"tokenizer.bos_token \"<s>\" is not in the vocabulary"});
}

TEST_CASE("errors: other tokenizer mistakes", "[errors]") {
  check_model_error(with(base(), R"("a", "b")", R"("a", "bb")"),
                    {"tokenizer.vocab[3] \"bb\" is more than one character"});
  check_model_error(with(base(), R"("a", "b")", R"("a", "")"), {"tokenizer.vocab[3] is empty"});
  check_model_error(with(base(), R"("a", "b")", R"("a", 7)"), {"tokenizer.vocab[3] is not a string"});
  check_model_error(
      with(base(), R"(["<bos>", "<eos>", "a", "b", " "], "bos_token": "<bos>", "eos_token": "<eos>")", "[]"),
      {"tokenizer.vocab is empty"});
  check_model_error(with(base_bpe(), R"("!": 0, )", R"("!!": 0, )"), {"lacks the byte token \"!\""});
  check_model_error(with(base_bpe(), R"("type": "byte_bpe", )", R"("type": "byte_bpe", "unk_token": "ab", )"),
                    {"tokenizer.unk_token is only for char tokenizers"});
}

TEST_CASE("errors: special-token names with control characters are shown escaped", "[errors]") {
  // A bos named with ESC, U+202E (right-to-left override) and a newline once went raw to
  // the terminal in attention-dump's table and summary.
  Scratch s;
  const std::string name = R"(<b\u001b[31m\u202e\n>)";
  const std::string m = quote(s.file("model.json", with(with(base(), R"(["<bos>", )", "[\"" + name + "\", "),
                                                        R"("bos_token": "<bos>")", "\"bos_token\": \"" + name + "\"")));
  for (const char* flags : {"", " --summary"}) {
    const auto r = run_cli("attention-dump -m " + m + " ab" + flags);
    INFO(flags << "\n" << r.err);
    CHECK(r.exit_code == 0);
    CHECK(r.out.find('\x1b') == std::string::npos);
    CHECK(r.out.find("\xE2\x80\xAE") == std::string::npos);           // U+202E
    CHECK_THAT(r.out, Contains("<b\\x1B[31m[U+202E]\xE2\x86\xB5>"));  // ESC as \x1B, the newline as ↵
  }
}

TEST_CASE("errors: unknown fields give one warning line", "[errors]") {
  // A thousand unknown fields once gave a thousand lines; the tokenizer's were not reported.
  Scratch s;
  std::string top, config;
  for (int i = 0; i < 1000; ++i) {
    top += " \"extra" + std::to_string(i) + "\": 0,\n";
    config += ", \"knob" + std::to_string(i) + "\": 0";
  }
  auto warnings = [](const std::string& err) {
    std::vector<std::string> lines;
    std::istringstream in(err);
    for (std::string line; std::getline(in, line);)
      if (line.rfind("warning: ", 0) == 0) lines.push_back(line);
    return lines;
  };
  const std::string m1 = s.file("top.json", with(base(), " \"version\": 1,\n", " \"version\": 1,\n" + top));
  const auto r1 = run_cli(generate(m1));
  CHECK(r1.exit_code == 0);
  REQUIRE(warnings(r1.err).size() == 1);
  CHECK_THAT(warnings(r1.err)[0],
             Contains("ignoring 1000 unknown top-level fields: \"extra0\", \"extra1\", \"extra2\" and 997 more"));
  const auto r2 =
      run_cli(generate(s.file("config.json", with(base(), R"("n_inner": 4})", R"("n_inner": 4)" + config + "}"))));
  CHECK(r2.exit_code == 0);
  REQUIRE(warnings(r2.err).size() == 1);
  CHECK_THAT(warnings(r2.err)[0], Contains("ignoring 1000 unknown config fields"));
  // The tokenizer's, and a name holding ESC shown escaped.
  const auto r3 = run_cli(
      generate(s.file("tok.json", with(base(), R"("type": "char")", R"("type": "char", "lower\u001bcase": true)"))));
  CHECK(r3.exit_code == 0);
  REQUIRE(warnings(r3.err).size() == 1);
  CHECK_THAT(warnings(r3.err)[0], Contains("ignoring an unknown tokenizer field \"lower\\u001bcase\""));
}

TEST_CASE("errors: a GPT-2 encoder.json nested too deep", "[errors]") {
  // 8 MB of {"a":[[[[...]]]]} once took 307 MB; it gets the model files' limit of 64 levels.
  Scratch s;
  const std::size_t depth = 4 << 20;
  const std::string enc = s.file("encoder.json", "{\"a\":" + std::string(depth, '[') + std::string(depth, ']') + "}");
  const std::string bpe = s.file("vocab.bpe", "#version: 0.2\n");
  check_error(run_sh(memory_cap(), "tokenize --vocab " + quote(enc) + " --merges " + quote(bpe) + " ab"), 1,
              {"encoder.json: malformed JSON: nested deeper than 64 levels"});
}

TEST_CASE("errors: a model over the limits, and the flags that raise them", "[errors]") {
  Scratch s;
  const std::string m = s.file("model.json", base());
  check_error(run_cli(generate(m) + " --max-params 10"), 1, {"larger than the limit of 10 parameters", "--max-params"});
  check_error(run_cli(generate(m) + " --max-ctx 5"), 1, {"config.n_ctx = 6 exceeds the limit of 5", "--max-ctx"});
  // A long-context model (sinusoidal, so the file stays small) needs --max-ctx raised.
  const std::string text = base();
  const auto wpe = text.find("  \"wpe.weight\"");
  const std::string long_ctx =
      with(with(text.substr(0, wpe) + text.substr(text.find('\n', wpe) + 1), R"("n_ctx": 6)", R"("n_ctx": 100000)"),
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
  // F32 is used in place from the mapping, not read at load: a NaN or inf there is found
  // when the activations stop being finite, and named then, for every command that runs
  // the model.
  for (const auto& [name, bad] : {std::pair{std::string("h.0.attn.c_attn.weight"), std::nanf("")},
                                  std::pair{std::string("h.1.mlp.c_proj.weight"), INFINITY}}) {
    auto ts = tiny_gpt2_tensors();
    for (auto& t : ts)
      if (t.name == name) t.bytes.replace(4 * 7, 4, reinterpret_cast<const char*>(&bad), 4);
    const std::string dir = checkpoint(s, safetensors_file(ts));
    const std::string want = "tensor " + name + ": value 7 is not finite (" + (std::isnan(bad) ? "nan" : "inf") + ")";
    INFO(name);
    check_error(run_cli(generate(dir)), 1, {want});
    write_text(s.path("text.txt"), "hello there\n");
    check_error(run_cli("perplexity -m " + quote(dir) + " -f " + quote(s.path("text.txt"))), 1, {want});
    check_error(run_cli("attention-dump -m " + quote(dir) + " ab"), 1, {want});
  }
}

TEST_CASE("errors: checkpoint tokenizer.json tiny-gpt cannot read", "[errors]") {
  Scratch s;
  const std::string dir = checkpoint(s, good_weights());
  fs::remove(dir + "/vocab.json");
  auto j = tokenizer_json(false);
  j["model"]["type"] = "WordPiece";
  write_text(dir + "/tokenizer.json", j.dump());
  check_error(run_cli(generate(dir)), 1,
              {"tokenizer.json: model.type \"WordPiece\" is not supported (tiny-gpt reads \"BPE\")"});
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
      {"\"$(printf 'a\\377')\"", "byte offset 1 (byte 0xFF)"},           // never valid
      {"\"$(printf 'a\\342\\202')\"", "byte offset 1 (byte 0xE2)"},      // truncated sequence
      {"\"$(printf '\\300\\257')\"", "byte offset 0 (byte 0xC0)"},       // overlong '/'
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
  check_error(run_cli("perplexity -m " + m + " -f " + nul), 1,
              {"character U+0000 at byte offset 1 is not in the model's vocabulary"});
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
  check_error(run_cli("generate -m " + m + " abx"), 1,
              {"character 'x' (U+0078) at byte offset 2 is not in the model's vocabulary"});
  check_error(run_cli("attention-dump -m " + m + " 新"), 1, {"character '新' (U+65B0) at byte offset 0"});
  // The special tokens' names are not characters of the text.
  check_error(run_cli("generate -m " + m + " '<bos>'"), 1, {"character '<' (U+003C)"});
}

TEST_CASE("errors: prompt longer than the context", "[errors]") {
  Scratch s;
  const std::string m = quote(s.file("model.json", base()));  // n_ctx 6, bos counts
  check_error(run_cli("generate -m " + m + " aaaaaa"), 1,
              {"the prompt is 7 tokens long but the model's context holds 6"});
  check_error(run_cli("attention-dump -m " + m + " aaaaaaaa"), 1, {"9 tokens long but the model's context holds 6"});
  const auto fits = run_cli("generate -m " + m + " aaaaa --json");
  CHECK(fits.exit_code == 0);
  CHECK_THAT(fits.out, Contains("context_full"));
}

TEST_CASE("errors: empty input", "[errors]") {
  Scratch s;
  const std::string m = quote(s.file("model.json", base()));
  const std::string nobos =
      quote(s.file("nobos.json", with(base(), R"(["<bos>", "<eos>", "a", "b", " "], "bos_token": "<bos>", )",
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

// ---- running the model ----------------------------------------------------------------

namespace {

// A model of `n_layer` layers of `n_head` heads (head_dim 1, n_inner 1, sinusoidal
// positions), every weight 0, over the characters "a", "b" and " ": small as a file (2 MB
// for 64 x 64), large as an attention dump.
std::string wide_model(int n_layer, int n_head, int n_ctx) {
  const int D = n_head;
  std::string t;
  auto tensor = [&](const std::string& name, std::vector<int> shape) {
    std::size_t n = 1;
    for (int d : shape) n *= static_cast<std::size_t>(d);
    t += (t.empty() ? "" : ",\n") + ("\"" + name + "\": {\"shape\": [" + std::to_string(shape[0]));
    if (shape.size() == 2) t += ", " + std::to_string(shape[1]);
    t += "], \"data\": [0";
    for (std::size_t i = 1; i < n; ++i) t += ",0";
    t += "]}";
  };
  tensor("wte.weight", {4, D});
  for (int l = 0; l < n_layer; ++l) {
    const std::string p = "h." + std::to_string(l) + ".";
    for (const char* ln : {"ln_1", "ln_2"}) {
      tensor(p + ln + ".weight", {D});
      tensor(p + ln + ".bias", {D});
    }
    tensor(p + "attn.c_attn.weight", {D, 3 * D});
    tensor(p + "attn.c_attn.bias", {3 * D});
    tensor(p + "attn.c_proj.weight", {D, D});
    tensor(p + "attn.c_proj.bias", {D});
    tensor(p + "mlp.c_fc.weight", {D, 1});
    tensor(p + "mlp.c_fc.bias", {1});
    tensor(p + "mlp.c_proj.weight", {1, D});
    tensor(p + "mlp.c_proj.bias", {D});
  }
  tensor("ln_f.weight", {D});
  tensor("ln_f.bias", {D});
  return R"({"format": "tiny-gpt", "version": 1, "config": {"vocab_size": 4, "n_ctx": )" + std::to_string(n_ctx) +
         R"(, "n_embd": )" + std::to_string(D) + R"(, "n_head": )" + std::to_string(n_head) + R"(, "n_layer": )" +
         std::to_string(n_layer) + R"(, "n_inner": 1, "positional": "sinusoidal"},
 "tokenizer": {"type": "char", "vocab": ["<bos>", "a", "b", " "], "bos_token": "<bos>"},
 "tensors": {)" +
         t + "}}\n";
}

// The base model with weights that are finite but overflow float32 when used.
std::string overflowing_ln_f() {
  return with(base(), R"("ln_f.weight": {"shape": [4], "data": [1.0, 1.0, 1.0, 1.0]})",
              R"("ln_f.weight": {"shape": [4], "data": [3e38, 3e38, 3e38, 3e38]})");
}
std::string overflowing_mlp() {
  return with(with(base(), R"("h.0.mlp.c_fc.bias": {"shape": [4], "data": [-0.3, -0.15, 0.0, 0.15]})",
                   R"("h.0.mlp.c_fc.bias": {"shape": [4], "data": [10, 10, 10, 10]})"),
              "[0.25, 0.4, -0.3, -0.15, 0.0, 0.15, 0.3, -0.4, -0.25, -0.1, 0.05, 0.2, 0.35, -0.35, -0.2, -0.05]",
              "[3e38, 3e38, 3e38, 3e38, 3e38, 3e38, 3e38, 3e38, 3e38, 3e38, 3e38, 3e38, 3e38, 3e38, 3e38, 3e38]");
}

}  // namespace

TEST_CASE("errors: weights that overflow float32 while running", "[errors]") {
  // Once "logprob": null from generate --json and a perplexity of -nan, with exit 0.
  Scratch s;
  const std::string lnf = quote(s.file("lnf.json", overflowing_ln_f())),
                    mlp = quote(s.file("mlp.json", overflowing_mlp()));
  const std::string text = quote(s.file("text.txt", "ab ba"));
  const std::string logits = "lnf.json: the logits at position ";
  check_error(run_cli("generate -m " + lnf + " ab -n 3 --json"), 1, {logits, "are not finite", "overflow float32"});
  check_error(run_cli("generate -m " + lnf + " ab -n 3"), 1, {logits});
  check_error(run_cli("perplexity -m " + lnf + " -f " + text), 1, {logits});
  check_error(run_cli("perplexity -m " + lnf + " -f " + text + " --per-line"), 1, {logits});
  check_error(run_cli("generate -m " + mlp + " ab -n 3"), 1,
              {"mlp.json: the activations after layer 0 at position ", "not finite"});
  check_error(run_cli("attention-dump -m " + mlp + " ab"), 1, {"the activations after layer 0"});
}

TEST_CASE("errors: perplexity with nothing to score", "[errors]") {
  // Without bos and eos one character is one token, and the first token is never predicted:
  // this once reported "tokens scored 0 ... perplexity 1.000".
  Scratch s;
  const std::string plain = quote(s.file(
      "plain.json", with(base(), R"(["<bos>", "<eos>", "a", "b", " "], "bos_token": "<bos>", "eos_token": "<eos>")",
                         R"(["a", "b", " "])")));
  check_error(run_cli("perplexity -m " + plain + " -f " + quote(s.file("one.txt", "a"))), 1,
              {"one.txt: nothing to score: the text is a single token"});
  check_error(run_cli("perplexity -m " + plain + " -f " + quote(s.file("lines.txt", "a\nb\n\n")) + " --per-line"), 1,
              {"lines.txt: nothing to score: every line is a single token"});
  CHECK(run_cli("perplexity -m " + plain + " -f " + quote(s.file("two.txt", "ab"))).exit_code == 0);
}

TEST_CASE("errors: perplexity --per-line errors name the file and the line", "[errors]") {
  Scratch s;
  const std::string m = quote(s.file("model.json", base()));
  const std::string f = s.file("text.txt", "ab\n\nba\nbxa\n");
  check_error(run_cli("perplexity -m " + m + " -f " + quote(f) + " --per-line"), 1,
              {f + ": line 4: character 'x' (U+0078) at byte offset 1 is not in the model's vocabulary"});
  check_error(run_cli("perplexity -m " + m + " -f " + quote(s.file("x.txt", "abx"))), 1,
              {"x.txt: character 'x' (U+0078) at byte offset 2"});
}

TEST_CASE("errors: attention-dump larger than its limit", "[errors]") {
  // 64 layers x 64 heads over 101 tokens: 42 million weights, once 1.5 GB of memory and a
  // 334 MB file. Refused before anything is computed, under a memory cap to prove it.
  Scratch s;
  const std::string m = quote(s.file("wide.json", wide_model(64, 64, 128)));
  const std::string sentence = std::string(100, 'a');
  check_error(
      run_sh(memory_cap(), "attention-dump -m " + m + " " + sentence + " --json"), 1,
      {"the dump would hold 41783296 values (64 layers x 64 heads x 101^2 tokens), more than the limit of 4194304",
       "or raise --max-values"});
  check_error(run_sh(memory_cap(),
                     "attention-dump -m " + m + " " + sentence + " --head 0 --json --include-qkv --max-values 10000"),
              1, {"the dump would hold 672256 values (64 layers x 1 heads x 101^2 tokens, with q, k and v)"});
  // What the limit lets through works: one head of each layer.
  const auto ok = run_cli("attention-dump -m " + m + " " + sentence + " --head 0 --format csv");
  CHECK(ok.exit_code == 0);
  CHECK(std::count(ok.out.begin(), ok.out.end(), '\n') == 1 + 64 * 101 * 101);
}

TEST_CASE("errors: attention-dump running out of memory is one line", "[errors]") {
  // With the limit raised past what the memory holds: one line and exit 1, not abort() from
  // a second bad_alloc while the first unwinds. The address space is capped at 200 MB.
  if (kSanitized)
    return skip_test("under ASan new never throws bad_alloc (it reports and aborts), and ulimit -v cannot be used");
  Scratch s;
  const std::string m = quote(s.file("wide.json", wide_model(64, 64, 128)));
  check_error(run_sh("ulimit -v 200000;",
                     "attention-dump -m " + m + " " + std::string(100, 'a') + " --json --max-values 100000000"),
              1, {"out of memory"});
}

TEST_CASE("errors: generate prints nothing when its threads cannot start", "[errors]") {
  // 256 threads need 2 GB of address space for their stacks. The prompt was once printed
  // before they failed to start, and the failure was exit 2 (a usage error).
  if (kSanitized) return skip_test("ASan reserves terabytes of address space, so ulimit -v cannot be used to run out");
  Scratch s;
  const std::string m = quote(s.file("model.json", base()));
  check_error(run_sh("ulimit -v 300000;", "generate -m " + m + " ab -n 3 -t 256"), 1,
              {"threads: cannot start 256 threads"});
  check_error(run_sh("ulimit -v 300000;", "bench -m " + m + " -p 2 -n 2 -r 1 -t 256"), 1,
              {"threads: cannot start 256 threads"});
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
      {"bench -m " + m + " -p 2147483647 -n 2147483647",
       "-p 2147483647 plus -n 2147483647 exceeds the model's n_ctx of 6"},
      {"bench -m " + m + " -p 2147483648", "--prompt-tokens: must be a whole number from 1 to 2147483647"},
      {"bench -m " + m + " -p 0", "--prompt-tokens: must be a whole number from 1"},
      {"bench -m " + m + " -n -1", "--decode-tokens: must be a whole number from 0"},
      {"bench -m " + m + " -r 0", "--reps: must be a whole number from 1"},
      {"embed -m " + m + " a --neighbors -1", "--neighbors: must be a whole number >= 1, got \"-1\""},
      {"embed -m " + m + " a --position -1", "--position: must be a whole number from 0"},
  };
  check_each(cases, 2);
}

TEST_CASE("errors: embed --position past the context, however large", "[errors]") {
  Scratch s;
  const std::string m = quote(s.file("model.json", base()));  // n_ctx 6
  const Cases cases = {
      {"embed -m " + m + " a --position 6", "--position 6: the model has positions 0..5"},
      {"embed -m " + m + " ab --position 5",
       "--position 5: the model has positions 0..5 and the word's 2 tokens need 5..6"},
      // P + n - 1 once overflowed an int here, passed the check and read far outside wpe (exit 139).
      {"embed -m " + m + " ab --position 2147483647 --no-vectors",
       "--position 2147483647: the model has positions 0..5 and the word's 2 tokens need 2147483647..2147483648"},
      {"embed -m " + m + " aba --position 2147483646 --json", "tokens need 2147483646..2147483648"},
  };
  check_each(cases, 2);
}

TEST_CASE("errors: embed --analogy whose terms cancel out", "[errors]") {
  // The query would be the zero vector: every token scored 0, a "ranking" of the lowest ids.
  Scratch s;
  const std::string m = quote(s.file("model.json", base()));
  const Cases cases = {
      {"embed -m " + m + " --analogy 'a - a'",
       "--analogy \"a - a\": the terms' unit vectors sum to zero, so there is no direction to search"},
      {"embed -m " + m + " --analogy 'a + b - a - b' --json",
       "--analogy \"a + b - a - b\": the terms' unit vectors sum to zero"},
      {"embed -m " + m + " b --analogy '\"a\" - a' --neighbors 2",
       "--analogy \"\"a\" - a\": the terms' unit vectors sum"},
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
  const std::string bpe = quote(fixture("tokenizer/gpt2/vocab.bpe")),
                    enc = quote(fixture("tokenizer/gpt2/encoder.json"));
  const Cases cases = {
      // /dev/zero never ends: it is read up to the ceiling, not until the memory runs out.
      {"perplexity -m " + m + " -f /dev/zero", "/dev/zero is larger than the 256 MiB this reads"},
      {"perplexity -m " + m + " -f " + d, "adir is a directory, not a file"},
      {"perplexity -m " + m + " -f " + quote(s.path("missing.txt")),
       "cannot open " + s.path("missing.txt") + ": No such file"},
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

TEST_CASE("errors: integer overflow in indices and sizes", "[errors]") {
  // Sizes that pass 2^31 (or 2^64) when combined. Under UBSan any overflow aborts the run.
  Scratch s;
  const std::string m = quote(s.file("model.json", base()));
  const Cases refused = {
      {"attention-dump -m " + m + " ab --layer 2147483648", "--layer: \"2147483648\" is not a list of numbers"},
      {"attention-dump -m " + m + " ab --head=-2147483649", "--head: \"-2147483649\" is not a list of numbers"},
      {"attention-dump -m " + m + " ab --head 0,99999999999999999999", "--head: \"0,99999999999999999999\""},
      {"attention-dump -m " + m + " ab --head -2147483648", "--head -2147483648 is out of range"},
      {"bench -m " + m + " -p 6 -n 2147483647", "-p 6 plus -n 2147483647 exceeds the model's n_ctx of 6"},
      {"generate -m " + m + " ab -n 2147483648", "--max-new-tokens"},
  };
  check_each(refused, 2);
  // Taken, and stopped by the context: no cache is sized from -n alone (a model without eos).
  const std::string no_eos = quote(s.file(
      "no_eos.json", with(base(), R"(["<bos>", "<eos>", "a", "b", " "], "bos_token": "<bos>", "eos_token": "<eos>")",
                          R"(["<bos>", "c", "a", "b", " "], "bos_token": "<bos>")")));
  const auto gen = run_sh(memory_cap(), "generate -m " + no_eos + " ab -n 2147483647 --json");
  CHECK(gen.exit_code == 0);
  CHECK_THAT(gen.out, Contains("context_full"));
  // layers x heads x T^2 with the limit at its largest: counted in 128 bits.
  CHECK(run_cli("attention-dump -m " + m + " ab --max-values 18446744073709551615 --json").exit_code == 0);
  // A text longer than the context is scored in windows.
  CHECK(run_cli("perplexity -m " + m + " -f " + quote(s.file("long.txt", std::string(100, 'a')))).exit_code == 0);
}

TEST_CASE("errors: flag values beyond float32 are quoted as given", "[errors]") {
  // Once "got 0" for --top-p 1e-300 and "got inf" for --temperature 1e308.
  Scratch s;
  const std::string g = "generate -m " + quote(s.file("model.json", base())) + " a ";
  const Cases cases = {
      {"--top-p 1e-300", "--top-p: 1e-300 is too small for a float (it would be 0)"},
      {"--temperature 1e308", "--temperature: 1e308 is too large for a float"},
      {"--temperature 1e400", "--temperature: 1e400 is beyond the range of a float"},
  };
  check_each(cases, 2, g);
  check_error(run_cli("trace -m " + quote(s.path("model.json")) + " ab --top-p 1e-300"), 2,
              {"--top-p: 1e-300 is too small for a float"});
}

TEST_CASE("errors: empty items in --layer and --head", "[errors]") {
  // CLI11 dropped them: "0,,1" read as 0,1 and "" as no selection at all.
  Scratch s;
  const std::string a = "attention-dump -m " + quote(s.file("model.json", base())) + " ab ";
  const Cases cases = {
      {"--layer ''", "--layer: \"\" is not a list of numbers like 0,2 (an empty item)"},
      {"--layer 0,,1", "--layer: \"0,,1\" is not a list of numbers like 0,2 (an empty item)"},
      {"--head 1,", "--head: \"1,\""},
      {"--head x", "--head: \"x\" is not a list of numbers"},
  };
  check_each(cases, 2, a);
  check_error(run_cli("trace -m " + quote(s.path("model.json")) + " ab --head 0,,1"), 2,
              {"--head: \"0,,1\" is not a list of numbers"});
  const auto ok = run_cli(a + "--layer 0 --head 1,0 --head 1 --json");
  CHECK(ok.exit_code == 0);
  CHECK_THAT(ok.out, Contains("\"heads\":[0,1]"));
}

TEST_CASE("errors: an unknown flag is named before a missing argument", "[errors]") {
  // `generate -x` once said "prompt is required".
  Scratch s;
  const std::string m = quote(s.file("model.json", base()));
  const Cases cases = {
      {"generate -m " + m + " -x", "The following argument was not expected: -x"},
      {"attention-dump -m " + m + " -x", "The following argument was not expected: -x"},
      {"tokenize -m " + m + " -x", "The following argument was not expected: -x"},
      {"perplexity -m " + m + " -x", "The following argument was not expected: -x"},
      {"trace -m " + m + " -x", "The following argument was not expected: -x"},
      {"attention-dump -m " + m, "sentence is required"},
      {"tokenize -m " + m, "text is required"},
      {"perplexity -m " + m, "--file is required"},
  };
  check_each(cases, 2, "", "(try --help)");
}

TEST_CASE("errors: --top-logprobs without --json", "[errors]") {
  Scratch s;
  const std::string m = quote(s.file("model.json", base()));
  check_error(run_cli("generate -m " + m + " ab --top-logprobs 2"), 2, {"--top-logprobs", "use it with --json"});
  CHECK(run_cli("generate -m " + m + " ab --top-logprobs 2 --json -n 2").exit_code == 0);
}

TEST_CASE("errors: TINYGPT_KERNELS with an unknown value", "[errors]") {
  Scratch s;
  const auto r = run_sh("TINYGPT_KERNELS='protable\x1b'", generate(s.file("model.json", base())));
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.err, Contains("warning: TINYGPT_KERNELS=protable? is not one of auto, avx512, avx2, portable: using "));
}

TEST_CASE("errors: a long value quoted in a message is cut short", "[errors]") {
  // A 5 MB config string once made a 5 MB error line.
  Scratch s;
  const std::string m =
      s.file("model.json",
             with(base(), R"("n_inner": 4})", R"("n_inner": 4, "positional": ")" + std::string(5 << 20, 'x') + "\"}"));
  const RunResult r = run_cli(generate(m));
  check_error(r, 1, {"config.positional = \"xxx", "bytes cut", "is not one of \"learned\", \"sinusoidal\""});
  CHECK(r.err.size() < 1200);
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
  check_error(run_cli("attention-dump -m " + m + " ab -o " + quote(s.path("model.json/out.json"))), 1,
              {"cannot write", "Not a directory"});
  check_error(run_cli("embed -m " + m + " a b --plot " + quote(s.path("model.json/map.svg"))), 1,
              {"cannot write", "Not a directory"});
  check_error(run_cli("attention-dump -m " + m + " ab -o /proc/out.json"), 1, {"cannot write /proc/out.json"});
  CHECK(s.entries() == std::set<std::string>{"model.json"});
}

TEST_CASE("errors: output directory without write permission", "[errors]") {
  // As a user a 0555 directory; as root (who may write anything) run as nobody.
  if (::geteuid() == 0 && !can_run_as_nobody())
    return skip_test("running as root without setpriv: no directory is unwritable to us");
  Scratch s;
  const std::string m = quote(s.file("model.json", base()));
  const std::string locked = s.dir("locked");
  ::chmod(locked.c_str(), 0555);
  check_error(
      run_sh(::geteuid() == 0 ? kAsNobody : "", "attention-dump -m " + m + " ab -o " + quote(locked + "/out.json")), 1,
      {"cannot write", "Permission denied"});
  CHECK(s.entries() == std::set<std::string>{"model.json", "locked"});
}

TEST_CASE("errors: output on a read-only file system", "[errors]") {
  if (!can_mount()) return skip_test("cannot mount here (not root, or no CAP_SYS_ADMIN): no read-only file system");
  Scratch s;
  const std::string m = quote(s.file("model.json", base()));
  const std::string ro = s.dir("ro");
  TmpfsMount bind(ro, 0, /*read_only=*/true);
  REQUIRE(bind.mounted());
  check_error(run_cli("attention-dump -m " + m + " ab -o " + quote(ro + "/out.json")), 1,
              {"cannot write", "Read-only file system"});
  CHECK(s.entries() == std::set<std::string>{"model.json", "ro"});
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

TEST_CASE("errors: embed writes all its files or none", "[errors]") {
  Scratch s;
  const std::string m = quote(s.file("model.json", base()));
  // --export once replaced vectors.tsv and then failed on metadata.tsv, leaving a mixed set.
  const std::string out = s.dir("out");
  s.file("out/vectors.tsv", "old");
  s.dir("out/metadata.tsv");
  s.file("out/word2vec.txt", "old");
  check_error(run_cli("embed -m " + m + " --export " + quote(out)), 1,
              {"cannot write " + out + "/metadata.tsv: it is a directory"});
  CHECK(read_file(out + "/vectors.tsv") == "old");
  CHECK(read_file(out + "/word2vec.txt") == "old");
  // --plot with a bad --export once overwrote the map and then failed.
  const std::string map = s.file("map.svg", "old");
  check_error(
      run_cli("embed -m " + m + " a b --plot " + quote(map) + " --export " + quote(s.path("missing/dir"))), 1,
      {"cannot export to " + s.path("missing/dir") + ": the directory " + s.path("missing") + " does not exist"});
  CHECK(read_file(map) == "old");
  check_error(run_cli("embed -m " + m + " a b --plot " + quote(map) + " --export " + m), 1,
              {"exists and is not a directory"});
  CHECK(read_file(map) == "old");
  // And the other way round: a map that cannot be written stops the export before it starts.
  check_error(run_cli("embed -m " + m + " a b --plot " + quote(s.path("missing/map.svg")) + " --export " +
                      quote(s.path("new"))),
              1, {"cannot write " + s.path("missing/map.svg") + ": No such file or directory"});
  CHECK(s.entries() == std::set<std::string>{"model.json", "map.svg", "out", "out/vectors.tsv", "out/metadata.tsv",
                                             "out/word2vec.txt"});
}

TEST_CASE("errors: embed files failing while being written leave the old ones", "[errors]") {
  // A file-size limit (ulimit -f, 512-byte blocks) that vectors.tsv fits under and
  // word2vec.txt (the same numbers, plus a label on every row) does not: the map and the
  // first two files are written before the third fails.
  Scratch s;
  const std::string m = quote(std::string(TINYGPT_SOURCE_DIR) + "/models/tang-poems.json");
  const std::string ref = s.path("ref");
  REQUIRE(run_cli("embed -m " + m + " --export " + quote(ref)).exit_code == 0);
  const auto blocks = fs::file_size(ref + "/vectors.tsv") / 512 + 1;
  REQUIRE(blocks * 512 < fs::file_size(ref + "/word2vec.txt"));
  fs::remove_all(ref);
  const std::string limit = "ulimit -f " + std::to_string(blocks) + ";";

  const std::string out = s.dir("out"), map = s.file("map.svg", "old");
  for (const char* name : {"vectors.tsv", "metadata.tsv", "word2vec.txt"}) s.file(std::string("out/") + name, "old");
  check_error(run_sh(limit, "embed 月 日 -m " + m + " --plot " + quote(map) + " --export " + quote(out)), 1,
              {"cannot write " + out + "/word2vec.txt: File too large"});
  CHECK(read_file(map) == "old");
  for (const char* name : {"vectors.tsv", "metadata.tsv", "word2vec.txt"}) CHECK(read_file(out + "/" + name) == "old");
  // A directory the export made for itself is removed again.
  check_error(run_sh(limit, "embed -m " + m + " --export " + quote(s.path("new"))), 1, {"File too large"});
  CHECK(s.entries() ==
        std::set<std::string>{"map.svg", "out", "out/vectors.tsv", "out/metadata.tsv", "out/word2vec.txt"});
}

TEST_CASE("errors: disk full while writing an output file", "[errors]") {
  if (!can_mount())
    return skip_test("cannot mount a tmpfs here (not root, or no CAP_SYS_ADMIN): no full disk to write to");
  Scratch s;
  const std::string m = quote(s.file("model.json", base()));
  // A full disk: a 64 kB tmpfs, filled up, holding an older version of the output.
  const std::string disk = s.dir("disk");
  TmpfsMount tmpfs(disk, 64);
  REQUIRE(tmpfs.mounted());
  s.file("disk/out.html", "old");
  std::system(("dd if=/dev/zero of=" + quote(disk + "/filler") + " bs=1k count=1000 2>/dev/null").c_str());
  check_error(run_cli("attention-dump -m " + m + " ab --format html -o " + quote(disk + "/out.html")),
              1,  // about 13 kB
              {"cannot write", "out.html", "No space left on device"});
  CHECK(read_file(disk + "/out.html") == "old");
  CHECK(s.entries("disk") == std::set<std::string>{"filler", "out.html"});
}

TEST_CASE("errors: file-size limit while writing an output file", "[errors]") {
  Scratch s;
  const std::string m = quote(s.file("model.json", base()));
  // A file-size limit (ulimit -f, in 512-byte blocks) fails the write like a full disk, anywhere.
  s.file("out.html", "old");
  check_error(run_sh("ulimit -f 8;", "attention-dump -m " + m + " ab --format html -o " + quote(s.path("out.html"))), 1,
              {"cannot write", "out.html", "File too large"});
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

TEST_CASE("errors: an output that is the model file", "[errors]") {
  // `attention-dump -m m.json -o m.json` once replaced the model with its own attention.
  Scratch s;
  const std::string model = s.file("model.json", base());
  const std::string m = quote(model);
  fs::create_symlink("model.json", s.path("link.json"));
  REQUIRE(::link(model.c_str(), s.path("hard.json").c_str()) == 0);
  const Cases cases = {
      {"attention-dump -m " + m + " ab -o " + m,
       "--output " + model + " is the model file " + model + ": refusing to write over it"},
      {"attention-dump -m " + m + " ab -o " + quote(s.path("link.json")), "is the model file"},  // through a symlink
      {"attention-dump -m " + m + " ab -o " + quote(s.path("hard.json")), "is the model file"},  // a hard link
      {"attention-dump -m " + quote(s.path("link.json")) + " ab -o " + m, "is the model file"},
      {"attention-dump -m " + m + " 'not in the vocabulary' -o " + m, "is the model file"},  // before anything else
      {"trace -m " + m + " ab -o " + quote(s.path("link.json")), "is the model file"},
  };
  check_each(cases, 2);
  CHECK(read_file(model) == base());
  CHECK(s.entries() == std::set<std::string>{"model.json", "link.json", "hard.json"});
}

TEST_CASE("errors: output onto a FIFO or a symlink", "[errors]") {
  // The atomic write once renamed a regular file over the FIFO and over the symlink.
  Scratch s;
  const std::string m = quote(s.file("model.json", base()));
  const std::string dump = "attention-dump -m " + m + " ab --json -o ";
  // A FIFO is written to, and stays a FIFO. Held open here for reading and writing, so that
  // the binary's open does not wait and its output (1 kB) waits in the pipe.
  const std::string fifo = s.path("pipe.json");
  REQUIRE(::mkfifo(fifo.c_str(), 0644) == 0);
  const int fd = ::open(fifo.c_str(), O_RDWR | O_NONBLOCK);
  REQUIRE(fd >= 0);
  const auto r = run_sh("timeout 20", dump + quote(fifo));
  char buf[65536];
  const ssize_t n = ::read(fd, buf, sizeof buf);
  ::close(fd);
  CHECK(r.exit_code == 0);
  REQUIRE(n > 0);
  CHECK(nlohmann::json::parse(std::string(buf, static_cast<std::size_t>(n))).contains("attention"));
  struct stat st {};
  REQUIRE(::lstat(fifo.c_str(), &st) == 0);
  CHECK(S_ISFIFO(st.st_mode));

  // A symlink is followed: its target is replaced, and the link stays a link.
  s.file("target.json", "old");
  fs::create_symlink("target.json", s.path("link.json"));
  CHECK(run_cli(dump + quote(s.path("link.json"))).exit_code == 0);
  CHECK(fs::is_symlink(s.path("link.json")));
  CHECK(nlohmann::json::parse(read_file(s.path("target.json"))).contains("attention"));
  // A dangling one: its target is created.
  fs::create_symlink("new.json", s.path("dangling.json"));
  CHECK(run_cli(dump + quote(s.path("dangling.json"))).exit_code == 0);
  CHECK(fs::is_symlink(s.path("dangling.json")));
  CHECK(fs::is_regular_file(fs::symlink_status(s.path("new.json"))));
  // A loop: refused.
  fs::create_symlink("loop-b", s.path("loop-a"));
  fs::create_symlink("loop-a", s.path("loop-b"));
  check_error(run_cli(dump + quote(s.path("loop-a"))), 1,
              {"cannot write", "loop-a: Too many levels of symbolic links"});
  CHECK(s.entries() == std::set<std::string>{"model.json", "pipe.json", "target.json", "link.json", "dangling.json",
                                             "new.json", "loop-a", "loop-b"});
}

TEST_CASE("errors: output onto a character or block device", "[errors]") {
  // Made with mknod in a scratch directory, never the real /dev nodes: if this fails, what
  // gets replaced is a copy. -o /dev/null as root once replaced the real /dev/null.
  if (::geteuid() != 0) return skip_test("mknod needs root");
  Scratch s;
  const std::string null = s.path("null"), full = s.path("full"), disk = s.path("disk");
  if (::mknod(null.c_str(), S_IFCHR | 0666, ::makedev(1, 3)) != 0 ||
      ::mknod(full.c_str(), S_IFCHR | 0666, ::makedev(1, 7)) != 0 ||
      ::mknod(disk.c_str(), S_IFBLK | 0600, ::makedev(7, 250)) != 0)
    return skip_test("this file system does not take device nodes (nodev, or no CAP_MKNOD)");
  const std::string dump = "attention-dump -m " + quote(s.file("model.json", base())) + " ab --json -o ";
  CHECK(run_cli(dump + quote(null)).exit_code == 0);  // written to, as /dev/null is
  check_error(run_cli(dump + quote(full)), 1, {"cannot write " + full + ": No space left on device"});
  check_error(run_cli(dump + quote(disk)), 1, {"cannot write " + disk + ": it is a block device"});
  for (const auto& [path, type] : {std::pair{null, S_IFCHR}, std::pair{full, S_IFCHR}, std::pair{disk, S_IFBLK}}) {
    struct stat st {};
    REQUIRE(::lstat(path.c_str(), &st) == 0);
    CHECK((st.st_mode & S_IFMT) == static_cast<unsigned>(type));
  }
  CHECK(s.entries() == std::set<std::string>{"model.json", "null", "full", "disk"});
}

TEST_CASE("errors: output file permissions", "[errors]") {
  // A replaced 0600 file once came back 0644, and new files ignored the umask.
  Scratch s;
  const std::string dump = "attention-dump -m " + quote(s.file("model.json", base())) + " ab --json -o ";
  auto mode = [](const std::string& path) {
    struct stat st {};
    REQUIRE(::stat(path.c_str(), &st) == 0);
    return st.st_mode & 07777;
  };
  const std::string secret = s.file("secret.json", "old");
  ::chmod(secret.c_str(), 0600);
  CHECK(run_sh("umask 022;", dump + quote(secret)).exit_code == 0);
  CHECK(mode(secret) == 0600);
  CHECK(read_file(secret) != "old");
  CHECK(run_sh("umask 027;", dump + quote(s.path("new.json"))).exit_code == 0);
  CHECK(mode(s.path("new.json")) == 0640);
  CHECK(run_sh("umask 002;", dump + quote(s.path("shared.json"))).exit_code == 0);
  CHECK(mode(s.path("shared.json")) == 0664);
}

TEST_CASE("errors: --help and --version to a full disk", "[errors]") {
  for (const char* args : {"--help", "--version", "generate --help", "attention-dump -h"}) {
    INFO(args);
    check_error(run_sh("", args, "/dev/full"), 1, {"cannot write to standard output"});
  }
}

TEST_CASE("errors: text that XML 1.0 cannot hold, in SVG and HTML", "[errors]") {
  // U+FFFE and U+FFFF in the text once made attention-dump's SVG (and embed's) not
  // well-formed. Any text reaches a byte-level model.
  Scratch s;
  const std::string m = quote(s.file("bpe.json", base_bpe()));
  const std::string text = "\xEF\xBF\xBF\xEF\xBF\xBE";  // 6 bytes, 7 tokens with bos: n_ctx is 8
  auto holds_nonchar = [](const std::string& doc) {
    return doc.find("\xEF\xBF\xBF") != std::string::npos || doc.find("\xEF\xBF\xBE") != std::string::npos;
  };
  const auto svg = run_cli("attention-dump -m " + m + " " + quote(text) + " --format svg");
  REQUIRE(svg.exit_code == 0);
  CHECK_FALSE(holds_nonchar(svg.out));
  CHECK_THAT(svg.out, Contains("<title>Attention: \xEF\xBF\xBD\xEF\xBF\xBD</title>"));  // each as U+FFFD
  const auto html = run_cli("attention-dump -m " + m + " " + quote(text) + " --format html");
  REQUIRE(html.exit_code == 0);
  CHECK_FALSE(holds_nonchar(html.out));
  CHECK_THAT(html.out, Contains("\"sentence\":\"\\uffff\\ufffe\""));  // the page's data keeps them, escaped
  const std::string plot = s.path("map.svg");
  REQUIRE(run_cli("embed -m " + m + " " + quote(text) + " ab --plot " + quote(plot)).exit_code == 0);
  CHECK_THAT(read_file(plot), Contains("\xEF\xBF\xBD\xEF\xBF\xBD"));
  CHECK_FALSE(holds_nonchar(read_file(plot)));
}

TEST_CASE("errors: embed's outputs over the model, a symlink, a FIFO, a device, a 0600 file", "[errors]") {
  // embed stages its files and renames them into place together; it once replaced the model
  // (`embed a b -m m.json --plot m.json`), a symlink and a device node with a regular file,
  // and reset a replaced file's mode.
  Scratch s;
  const std::string model = s.file("model.json", base());
  const std::string m = quote(model);
  fs::create_symlink("model.json", s.path("link.json"));
  const Cases over_model = {
      {"embed a b -m " + m + " --plot " + m,
       "--plot " + model + " is the model file " + model + ": refusing to write over it"},
      {"embed a b -m " + m + " --plot " + quote(s.path("link.json")), "is the model file"},
  };
  check_each(over_model, 2);
  fs::create_directory(s.path("ex"));
  fs::create_symlink("../model.json", s.path("ex/vectors.tsv"));
  check_error(run_cli("embed -m " + m + " --export " + quote(s.path("ex"))), 2, {"--export", "is the model file"});
  CHECK(read_file(model) == base());

  const std::string plot = "embed a b -m " + m + " --plot ";
  // A symlink is followed (the link stays a link) and the file it names keeps its mode.
  s.file("map.svg", "old");
  REQUIRE(::chmod(s.path("map.svg").c_str(), 0600) == 0);
  fs::create_symlink("map.svg", s.path("map-link.svg"));
  CHECK(run_cli(plot + quote(s.path("map-link.svg"))).exit_code == 0);
  CHECK(fs::is_symlink(s.path("map-link.svg")));
  CHECK_THAT(read_file(s.path("map.svg")), Contains("<svg"));
  struct stat st {};
  REQUIRE(::stat(s.path("map.svg").c_str(), &st) == 0);
  CHECK((st.st_mode & 07777) == 0600);

  // A FIFO is written to and stays a FIFO (held open here so that the write does not wait).
  const std::string fifo = s.path("pipe.svg");
  REQUIRE(::mkfifo(fifo.c_str(), 0644) == 0);
  const int fd = ::open(fifo.c_str(), O_RDWR | O_NONBLOCK);
  REQUIRE(fd >= 0);
  const auto r = run_sh("timeout 20", plot + quote(fifo));
  char buf[65536];
  const ssize_t n = ::read(fd, buf, sizeof buf);
  ::close(fd);
  CHECK(r.exit_code == 0);
  REQUIRE(n > 0);
  CHECK_THAT(std::string(buf, static_cast<std::size_t>(n)), Contains("<svg"));
  REQUIRE(::lstat(fifo.c_str(), &st) == 0);
  CHECK(S_ISFIFO(st.st_mode));
  std::set<std::string> expected = {"model.json", "link.json",    "ex",      "ex/vectors.tsv",
                                    "map.svg",    "map-link.svg", "pipe.svg"};

  // A character device (a copy of /dev/null made here) is written to and stays a device,
  // also beside the export set.
  if (::geteuid() == 0 && ::mknod(s.path("null").c_str(), S_IFCHR | 0666, ::makedev(1, 3)) == 0) {
    CHECK(run_cli(plot + quote(s.path("null")) + " --export " + quote(s.path("ex2"))).exit_code == 0);
    REQUIRE(::lstat(s.path("null").c_str(), &st) == 0);
    CHECK(S_ISCHR(st.st_mode));
    CHECK(fs::is_regular_file(s.path("ex2/word2vec.txt")));
    expected.insert({"null", "ex2", "ex2/vectors.tsv", "ex2/metadata.tsv", "ex2/word2vec.txt"});
  } else {
    WARN("no character device made (not root, or the file system refuses device nodes): that part is not checked");
  }
  CHECK(s.entries() == expected);
}

TEST_CASE("errors: bad penalty, min-p and stop flags", "[errors]") {
  Scratch s;
  const std::string g = "generate -m " + quote(s.file("model.json", base())) + " a ";
  const Cases cases = {
      {"--min-p 1.5", "--min-p must be in [0, 1] (0 turns it off), got 1.5"},
      {"--min-p -0.1", "--min-p must be in [0, 1]"},
      {"--min-p nan", "--min-p must be in [0, 1]"},
      {"--repeat-penalty 0", "--repeat-penalty must be a number > 0 (1 turns it off), got 0"},
      {"--repeat-penalty -1.3", "--repeat-penalty must be a number > 0"},
      {"--repeat-penalty inf", "--repeat-penalty must be a number > 0"},
      {"--repeat-last-n -1", "--repeat-last-n must be >= 0 (0 turns it off), got -1"},
      {"--repeat-last-n x", "--repeat-last-n"},
      {"--frequency-penalty 2.5", "--frequency-penalty must be in [-2, 2] (0 turns it off), got 2.5"},
      {"--presence-penalty -3", "--presence-penalty must be in [-2, 2] (0 turns it off), got -3"},
      {"--stop ''", "--stop: an empty string would stop before the first token"},
      {"--stop", "--stop: 1 required STRING missing"},
  };
  check_each(cases, 2, g);
}

TEST_CASE("errors: a prompt file or standard input that cannot be read, is not UTF-8 or is too long", "[errors]") {
  Scratch s;
  const std::string g = "generate -m " + quote(s.file("model.json", base())) + " ";
  check_error(run_cli(g + "-f " + quote(s.path("missing.txt"))), 1,
              {"cannot open " + s.path("missing.txt") + ": No such file or directory"});
  check_error(run_cli(g + "-f " + quote(s.dir("d"))), 1, {s.path("d") + " is a directory, not a file"});
  check_error(run_cli(g + "-f /dev/zero"), 1, {"/dev/zero is larger than the 64 MiB this reads"});
  check_error(run_cli(g + "-f " + quote(s.file("bad.txt", "ab\xff"))), 1,
              {s.path("bad.txt") + ": invalid UTF-8 at byte offset 2 (byte 0xFF); the prompt must be UTF-8"});
  check_error(run_cli(g + "-", "a\xc3"), 1, {"standard input: invalid UTF-8 at byte offset 1 (byte 0xC3)"});
  check_error(run_cli(g + "-f " + quote(s.file("long.txt", "aaaaaaa"))), 1,
              {"the prompt is 8 tokens long but the model's context holds 6"});
  check_error(run_cli(g + "-", "aaaaaaa"), 1, {"the prompt is 8 tokens long but the model's context holds 6"});
  // Not errors: the same prompt from a file, from standard input and as an argument.
  const auto arg = run_cli(g + "ab -n 2 --temperature 0");
  CHECK(run_cli(g + "-f " + quote(s.file("ab.txt", "ab")) + " -n 2 --temperature 0").out == arg.out);
  CHECK(run_cli(g + "- -n 2 --temperature 0", "ab").out == arg.out);
}

TEST_CASE("errors: contradictory prompt, file and batch flags", "[errors]") {
  Scratch s;
  const std::string g = "generate -m " + quote(s.file("model.json", base())) + " ";
  const std::string in = quote(s.file("in.jsonl", "{\"prompt\": \"a\"}\n"));
  const Cases cases = {
      {"a -f " + in, "give the prompt either as an argument or with --file, not both"},
      {"a --batch " + in, "--batch reads the prompts from its file: give no prompt and no --file with it"},
      {"--batch " + in + " -f " + in, "--batch reads the prompts from its file"},
      {"a -o out.jsonl", "--output is where --batch writes its results: use it with --batch"},
      {"--batch " + in + " --force", "--force lets --output replace an existing file: use it with --output"},
      {"--batch ''", "--batch: the file name is empty"},
      {"-f ''", "--file: the file name is empty"},
  };
  check_each(cases, 2, g);
}

TEST_CASE("errors: a batch output that exists, is the input or the model, or cannot be written", "[errors]") {
  Scratch s;
  const std::string model = s.file("model.json", base());
  const std::string in = s.file("in.jsonl", "{\"prompt\": \"a\"}\n");
  const std::string g = "generate -m " + quote(model) + " --batch " + quote(in) + " -o ";
  const std::string existing = s.file("old.jsonl", "keep me\n");
  check_error(run_cli(g + quote(existing)), 2, {"--output " + existing + " exists: give --force to replace it"});
  CHECK(read_file(existing) == "keep me\n");
  check_error(run_cli(g + quote(in) + " --force"), 2, {"--output " + in + " is the input file " + in});
  check_error(run_cli(g + quote(model) + " --force"), 2, {"--output " + model + " is the model file"});
  check_error(run_cli(g + quote(s.path("missing/out.jsonl"))), 1,
              {"cannot write " + s.path("missing/out.jsonl") + ": No such file or directory"});
  check_error(run_cli(g + quote(s.dir("outdir"))), 1, {"cannot write " + s.path("outdir") + ": it is a directory"});
  check_error(run_cli("generate -m " + quote(model) + " --batch " + quote(s.path("none.jsonl"))), 1,
              {"cannot open " + s.path("none.jsonl") + ": No such file or directory"});
  CHECK(s.entries() == std::set<std::string>{"model.json", "in.jsonl", "old.jsonl", "outdir"});
}

TEST_CASE("errors: a batch with failed lines says so on stderr and in its exit code", "[errors]") {
  Scratch s;
  const std::string in = s.file("in.jsonl", "{\"id\": 1, \"prompt\": \"a\"}\n{\"id\": 2, \"prompt\": \"xyz\"}\n");
  const RunResult r = run_cli("generate -m " + quote(s.file("model.json", base())) + " --batch " + quote(in) + " -n 1");
  INFO(r.err);
  CHECK(r.exit_code == 1);
  CHECK(std::count(r.out.begin(), r.out.end(), '\n') == 2);  // the good line's result and the error object
  const std::string last = r.err.substr(r.err.rfind("tiny-gpt: error: "));
  CHECK(std::count(last.begin(), last.end(), '\n') == 1);
  CHECK_THAT(last, Contains("1 of 2 batch lines failed (each has an error object in the output); the first, line 2: "
                            "character 'x' (U+0078) at byte offset 0 is not in the model's vocabulary"));
}
