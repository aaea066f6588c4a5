#include "tinygpt/load.h"

#include "hf_checkpoint.h"
#include "mapped_file.h"
#include "weights_json.h"

namespace tinygpt {

Model load_model_from_text(std::string_view json, const std::string& name, const LoadOptions& options) {
  Model m = read_weights_json(json, name, options);
  if (options.weight_type) reduce_weights(m, *options.weight_type);
  return m;
}

Model load_model(const std::string& path, const LoadOptions& options) {
  Model m = [&] {
    if (is_hf_checkpoint_path(path)) return load_hf_checkpoint(find_hf_checkpoint(path), options);
    MappedFile file(path);
    return read_weights_json(file.text(), path, options, [&file](std::size_t offset) { file.release_before(offset); });
  }();
  if (options.weight_type) reduce_weights(m, *options.weight_type);
  return m;
}

}  // namespace tinygpt
