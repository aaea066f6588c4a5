#pragma once
// The weights JSON file format (version 1; docs/weights-format.md): a JSON object with
// "format", "version", "config", "tokenizer" and "tensors", each tensor as decimal
// numbers ("data") or base64 of little-endian float32 ("b64"). This half only reads the
// file; what the config and the tensors mean is the architecture's (architecture.h).
#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

#include "tinygpt/load.h"
#include "tinygpt/model.h"

namespace tinygpt {

// Called with the offset up to which the text has been read, so that a memory-mapped
// file can hand those pages back (MappedFile::release_before); may be empty.
using ReleaseText = std::function<void(std::size_t offset)>;

// Reads a whole weights JSON text into a Model. `where` names the file in messages.
Model read_weights_json(std::string_view text, const std::string& where, const LoadOptions& options,
                        const ReleaseText& release = {});

}  // namespace tinygpt
