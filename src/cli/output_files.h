#pragma once
// The output files of one command, written as one: none of them changes unless every one
// of them could be written.
#include <string>
#include <vector>

namespace tinygpt::cli {

struct OutputFile {
  std::string path;
  std::string content;
};

// Refuses a target that cannot be written, before anything is: a directory, a parent that
// is missing, is not a directory or may not be written to. Error(io) says "cannot write
// PATH: why", as write_file_atomically would.
void check_writable(const std::string& path);

// Checks every target, writes each file (write_file_atomically) into a temporary directory
// beside its target (.NAME.tmp-XXXXXX), and only when all are written renames them into
// place. A failure before the renames removes what was written and leaves every target as
// it was; the renames stay within a directory, so they need no space.
void write_together(const std::vector<OutputFile>& files);

}  // namespace tinygpt::cli
