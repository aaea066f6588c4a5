// tiny-gpt: the command line. Each subcommand registers itself from its own file;
// this is the one place that turns errors into messages and exit codes.
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <iostream>
#include <new>
#include <string>
#include <string_view>

#include "common.h"
#include "exit_codes.h"
#include "flag_names.h"
#include "kernels.h"
#include "tinygpt/error.h"
#include "utf8.h"

namespace {

// Writes one line to stderr without allocating, so that it still works when memory ran
// out: newlines and tabs become spaces, other control characters \xNN, bytes that are not
// UTF-8 U+FFFD (paths and flag values come from the user and may hold any of them). A
// message longer than kMaxLine bytes (one quoting a 5 MB config value) is cut in the middle.
class ErrorLine {
 public:
  static constexpr std::size_t kMaxLine = 1000, kKeepTail = 250;

  void message(std::string_view m) {
    put("tiny-gpt: error: ");
    if (m.size() <= kMaxLine) {
      text(m);
    } else {
      const std::size_t head = boundary(m, kMaxLine - kKeepTail), tail = boundary(m, m.size() - kKeepTail);
      text(m.substr(0, head));
      char cut[64];
      std::snprintf(cut, sizeof cut, " \xE2\x80\xA6(%zu bytes cut)\xE2\x80\xA6 ", tail - head);
      put(cut);
      text(m.substr(tail));
    }
    put("\n");
    std::fwrite(buf_, 1, n_, stderr);
    n_ = 0;
  }

 private:
  char buf_[2 * kMaxLine];  // room for a full line even when every byte was escaped
  std::size_t n_ = 0;

  // The nearest character boundary at or before `at`.
  static std::size_t boundary(std::string_view m, std::size_t at) {
    while (at > 0 && (static_cast<unsigned char>(m[at]) & 0xC0) == 0x80) --at;
    return at;
  }
  void put(std::string_view s) {
    for (const char c : s) {
      if (n_ == sizeof buf_) {
        std::fwrite(buf_, 1, n_, stderr);
        n_ = 0;
      }
      buf_[n_++] = c;
    }
  }
  void text(std::string_view m) {
    for (std::size_t i = 0; i < m.size();) {
      const std::size_t len = tinygpt::utf8::sequence_length(m, i);
      const auto c = static_cast<unsigned char>(m[i]);
      if (len == 0) {
        put("\xEF\xBF\xBD");
        ++i;
        continue;
      }
      if (c == '\n' || c == '\r' || c == '\t') {
        put(" ");
      } else if (c < 0x20 || c == 0x7F) {
        char hex[8];
        std::snprintf(hex, sizeof hex, "\\x%02X", static_cast<unsigned>(c));
        put(hex);
      } else {
        put(m.substr(i, len));
      }
      i += len;
    }
  }
};

void report(std::string_view message) {
  ErrorLine line;
  line.message(message);
}

// The library reads TINYGPT_KERNELS and takes the best kernels the CPU has for any value it
// does not know; a typo (TINYGPT_KERNELS=protable) would then measure the wrong ones unnoticed.
void warn_about_kernels_variable() {
  const char* env = std::getenv("TINYGPT_KERNELS");
  const std::string_view want = env ? env : "";
  if (want.empty() || want == "auto" || want == "avx2" || want == "avx512" || want == "portable" || want == "scalar")
    return;
  std::string shown;  // short, printable ASCII: the value goes into a log line
  for (const char c : want.substr(0, 40)) shown += (c >= 0x20 && c < 0x7F) ? c : '?';
  if (want.size() > 40) shown += "...";
  spdlog::warn("TINYGPT_KERNELS={} is not one of auto, avx512, avx2, portable: using {}", shown,
               tinygpt::kernels::to_string(tinygpt::kernels::default_isa()));
}

// An exception escaped where none may (a destructor, a worker thread, a second exception
// while one unwinds), most often memory running out: one line and exit 1, not abort().
[[noreturn]] void on_terminate() noexcept {
  const char* what = "unexpected failure";
  try {
    if (const std::exception_ptr e = std::current_exception()) std::rethrow_exception(e);
  } catch (const std::bad_alloc&) {
    what = "out of memory";
  } catch (...) {
  }
  report(what);
  std::_Exit(tinygpt::cli::kExitBadInput);
}

// Whatever went to stdout (a result, --help, --version) must have arrived: a full disk or
// a closed pipe (with SIGPIPE ignored) is an error, not exit 0 with the output missing.
int finish(int code) {
  std::cout.flush();
  if (std::fflush(stdout) != 0) {
    report(std::string("cannot write to standard output: ") + std::strerror(errno));
    return tinygpt::cli::kExitBadInput;
  }
  if (std::ferror(stdout) || !std::cout) {
    report("cannot write to standard output (part of the output was lost)");
    return tinygpt::cli::kExitBadInput;
  }
  return code;
}

}  // namespace

int main(int argc, char** argv) {
  // Over a file-size limit (ulimit -f) a write then fails with EFBIG and is reported, and
  // write_file_atomically removes its temporary file, instead of the signal killing us mid-file.
  std::signal(SIGXFSZ, SIG_IGN);
  std::set_terminate(on_terminate);
  auto logger = spdlog::stderr_color_st("tiny-gpt");
  logger->set_pattern("%^%l%$: %v");
  spdlog::set_default_logger(logger);
  spdlog::set_level(spdlog::level::info);
  warn_about_kernels_variable();

  CLI::App app{"tiny-gpt: run a small GPT-style decoder and look inside it"};
  app.set_version_flag("--version", "tiny-gpt 0.1.0");
  app.require_subcommand(1);
  app.fallthrough();  // -v may follow the subcommand
  app.add_flag_callback(
      "-v,--verbose", [] { spdlog::set_level(spdlog::level::debug); }, "Log details (timings, model info) to stderr");

  tinygpt::cli::register_generate(app);
  tinygpt::cli::register_embed(app);
  tinygpt::cli::register_positions(app);
  tinygpt::cli::register_attention_dump(app);
  tinygpt::cli::register_tokenize(app);
  tinygpt::cli::register_perplexity(app);
  tinygpt::cli::register_bench(app);
  tinygpt::cli::register_info(app);
  tinygpt::cli::register_trace(app);
  tinygpt::cli::register_convert(app);
  tinygpt::cli::register_quantize(app);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return finish(app.exit(e));
  } catch (const CLI::CallForAllHelp& e) {
    return finish(app.exit(e));
  } catch (const CLI::CallForVersion& e) {
    return finish(app.exit(e));
  } catch (const CLI::ParseError& e) {
    report(std::string(e.what()) + " (try --help)");
    return tinygpt::cli::kExitUsage;
  } catch (const tinygpt::Error& e) {
    report(tinygpt::cli::cli_message(e));
    return e.kind() == tinygpt::ErrorKind::usage ? tinygpt::cli::kExitUsage : tinygpt::cli::kExitBadInput;
  } catch (const std::bad_alloc&) {
    report("out of memory");
    return tinygpt::cli::kExitBadInput;
  } catch (const std::exception& e) {
    report(std::string("unexpected failure: ") + e.what());
    return tinygpt::cli::kExitBadInput;
  }
  return finish(tinygpt::cli::kExitOk);
}
