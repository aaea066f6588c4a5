// The smallest program on top of the library: load a model, continue a prompt with a
// seed, print the prompt and its continuation. Only the public headers are used.
//   simple MODEL.json PROMPT [SEED]
#include <tinygpt/tinygpt.h>

#include <cstdio>
#include <string>

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s MODEL.json PROMPT [SEED]\n", argv[0]);
    return 2;
  }
  try {
    tinygpt::LoadOptions options;  // the library prints nothing: its warnings come here
    options.on_warning = [](const std::string& message) { std::fprintf(stderr, "warning: %s\n", message.c_str()); };
    const tinygpt::Model model = tinygpt::load_model(argv[1], options);

    tinygpt::GenerateParams params;  // temperature 0.8, top-k 40, top-p 0.95 unless set
    params.max_new_tokens = 50;
    params.seed = argc > 3 ? std::stoull(argv[3]) : 42;  // the same seed gives the same text
    const tinygpt::GenerateResult result = tinygpt::generate(model, argv[2], params);

    // decode_text leaves out special tokens (the end token) and shows bytes that are not
    // UTF-8 as U+FFFD.
    std::printf("%s%s\n", argv[2], model.tokenizer.decode_text(result.ids).c_str());
    std::fprintf(stderr, "stop: %s after %zu tokens\n", tinygpt::to_string(result.stop), result.ids.size());
  } catch (const std::exception& e) {  // tinygpt::Error for a bad model or prompt
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
