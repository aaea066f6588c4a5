// tiny-gpt info through the real binary: what it says about a weights JSON and about a
// Hugging Face checkpoint folder (written at test time, tests/checkpoint_writer.h).
#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>

#include "checkpoint_writer.h"
#include "helpers.h"

using namespace tinygpt::test;
using Catch::Matchers::Contains;
namespace fs = std::filesystem;

TEST_CASE("cli info: a checkpoint folder's format, config, dtypes, memory and tokenizer", "[cli][info]") {
  char tmpl[] = "/tmp/tinygpt-info-XXXXXX";
  REQUIRE(::mkdtemp(tmpl) != nullptr);
  const std::string dir = std::string(tmpl) + "/ckpt";
  auto tensors = tiny_gpt2_tensors();
  for (auto& t : tensors)  // the biases in F16, the rest F32
    if (t.name.ends_with(".bias")) t.dtype = "F16";
  // One half (1.0) per value.
  for (auto& t : tensors)
    if (t.dtype == "F16") {
      std::size_t n = 1;
      for (auto d : t.shape) n *= static_cast<std::size_t>(d);
      t.bytes.clear();
      for (std::size_t i = 0; i < n; ++i) t.bytes += std::string("\x00\x3c", 2);
    }
  write_checkpoint(dir, tiny_gpt2_config(), tensors);

  const RunResult r = run_cli("info -m " + quote(dir) + " --json");
  INFO(r.err);
  REQUIRE(r.exit_code == kExitOk);
  const auto j = nlohmann::json::parse(r.out);
  CHECK(j["format"] == "safetensors (Hugging Face checkpoint)");
  CHECK(j["config"]["n_ctx"] == 8);
  CHECK(j["config"]["n_inner"] == 12);
  CHECK(j["config"]["tie_word_embeddings"] == true);
  const std::uint64_t biases =
      2 * (12 + 4 + 4 + 4 + 12 + 4) + 4;  // per layer: ln_1, c_attn, c_proj, ln_2, c_fc, mlp c_proj; ln_f
  CHECK(j["stored_dtypes"]["F16"] == biases);
  CHECK(j["stored_dtypes"]["F32"].get<std::uint64_t>() + biases == j["parameters"].get<std::uint64_t>());
  CHECK(j["file_bytes"] == fs::file_size(dir + "/model.safetensors"));
  // In place: every aligned F32 tensor: wte, wpe, the layer norms' weights and the Conv1D
  // weights (used in the file's [in][out] layout); the F16 biases are widened into the store.
  const std::uint64_t in_place_floats = 259 * 4 + 8 * 4 + 2 * (4 + 4) + 4 + 2 * (4 * 12 + 4 * 4 + 4 * 12 + 12 * 4);
  CHECK(j["memory_bytes"]["in_place_from_file"] == 4 * in_place_floats);
  CHECK(j["memory_bytes"]["weight_store"] == 4 * (j["parameters"].get<std::uint64_t>() - in_place_floats));
  CHECK(j["tokenizer"]["type"] == "byte_bpe");
  CHECK(j["tokenizer"]["size"] == 259);
  CHECK(j["tokenizer"]["bos_id"] == 258);
  CHECK(j["tokenizer"]["unk_id"].is_null());
  CHECK(j["load_seconds"].get<double>() > 0);

  const RunResult text = run_cli("info -m " + quote(dir));
  CHECK(text.exit_code == kExitOk);
  CHECK_THAT(text.out, Contains("format       safetensors (Hugging Face checkpoint)") &&
                           Contains("tokenizer    byte_bpe, 259 entries; bos <|endoftext|> (258)"));
  fs::remove_all(tmpl);
}

TEST_CASE("cli info: a weights JSON", "[cli][info]") {
  const RunResult r = run_cli("info -m " + quote(fixture("ref/sinusoidal_untied_relu.model.json")) + " --json");
  REQUIRE(r.exit_code == kExitOk);
  const auto j = nlohmann::json::parse(r.out);
  CHECK(j["format"] == "tiny-gpt weights JSON");
  CHECK(j["config"]["positional"] == "sinusoidal");
  CHECK(j["config"]["activation"] == "relu");
  CHECK(j["config"]["tie_word_embeddings"] == false);
  CHECK(j["stored_dtypes"] == nlohmann::json{{"F32", j["parameters"]}});
  CHECK(j["memory_bytes"]["in_place_from_file"] == 0);
  CHECK(j["tokenizer"]["type"] == "char");
  CHECK(j["tokenizer"]["bos_id"].is_null());
}
