#pragma once
// An output that is a folder of files (convert's checkpoint folder) appears whole or not
// at all: the files are written into a staging folder beside the target
// (.NAME.tmp-XXXXXX) and that folder is renamed into place in one step. A run that fails
// or is killed before the rename leaves the target as it was (a killed run may leave its
// staging folder behind, under that hidden name).
#include <set>
#include <string>
#include <vector>

#include "output_files.h"

namespace tinygpt::cli {

struct FolderOutput {
  std::string path;
  std::vector<OutputFile> files;  // paths relative to the folder: plain names
  // An existing folder at `path` is replaced only when this is set and it holds nothing
  // but regular files with these names: a replace must never delete something the command
  // did not write (a folder given by mistake, such as $HOME).
  bool replace = false;
  std::set<std::string> replaceable;
};

// Throws Error(io) naming the path and the reason; Error(usage) when the folder exists and
// `replace` is not set. A symlink to a folder is followed: the folder it points to is
// replaced and the link stays a link.
void write_folder_atomically(const FolderOutput& out);

}  // namespace tinygpt::cli
