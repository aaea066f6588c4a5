// tiny-gpt: the command line. Each subcommand registers itself from its own file;
// this is the one place that turns errors into messages and exit codes.
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <new>
#include <string>

#include "common.h"
#include "exit_codes.h"
#include "flag_names.h"
#include "tinygpt/error.h"
#include "utf8.h"

namespace {

// One line, whatever the message holds: paths and flag values come from the user and may
// hold newlines, terminal escapes or bytes that are not UTF-8.
void report(const std::string& message) {
  std::string line;
  for (const char c : tinygpt::utf8::sanitize(message)) {
    if (c == '\n' || c == '\r' || c == '\t') {
      line += ' ';
    } else if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) {
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\x%02X", static_cast<unsigned>(c));
      line += hex;
    } else {
      line += c;
    }
  }
  std::fprintf(stderr, "tiny-gpt: error: %s\n", line.c_str());
}

}  // namespace

int main(int argc, char** argv) {
  // Over a file-size limit (ulimit -f) a write then fails with EFBIG and is reported, and
  // write_file_atomically removes its temporary file, instead of the signal killing us mid-file.
  std::signal(SIGXFSZ, SIG_IGN);
  auto logger = spdlog::stderr_color_st("tiny-gpt");
  logger->set_pattern("%^%l%$: %v");
  spdlog::set_default_logger(logger);
  spdlog::set_level(spdlog::level::info);

  CLI::App app{"tiny-gpt: run a small GPT-style decoder and look inside it"};
  app.set_version_flag("--version", "tiny-gpt 0.1.0");
  app.require_subcommand(1);
  app.fallthrough();  // -v may follow the subcommand
  app.add_flag_callback("-v,--verbose", [] { spdlog::set_level(spdlog::level::debug); },
                        "Log details (timings, model info) to stderr");

  tinygpt::cli::register_generate(app);
  tinygpt::cli::register_embed(app);
  tinygpt::cli::register_attention_dump(app);
  tinygpt::cli::register_tokenize(app);
  tinygpt::cli::register_perplexity(app);
  tinygpt::cli::register_bench(app);
  tinygpt::cli::register_info(app);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
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
  // The result is on stdout: if it could not all be written (a full disk, a closed
  // pipe with SIGPIPE ignored), say so rather than exit 0 with output missing.
  if (std::fflush(stdout) != 0) {
    report(std::string("cannot write to standard output: ") + std::strerror(errno));
    return tinygpt::cli::kExitBadInput;
  }
  if (std::ferror(stdout)) {
    report("cannot write to standard output (part of the output was lost)");
    return tinygpt::cli::kExitBadInput;
  }
  return tinygpt::cli::kExitOk;
}
