#!/usr/bin/env bash
# Formats the project's C++ with .clang-format (Debian's clang-format, version 14 here).
#   tools/format.sh           rewrite files in place
#   tools/format.sh --check   list the files that differ and fail (a CTest test runs this)
# Generated sources are left as their generators write them.
set -euo pipefail
cd "$(dirname "$0")/.."
format=$(command -v clang-format-14 || command -v clang-format || true)
if [[ -z "$format" ]]; then echo "clang-format is not installed (apt-get install clang-format)" >&2; exit 77; fi
# Tracked files and new ones not yet added (but not ignored): a file is checked before its
# first commit, not after.
mapfile -t files < <(git ls-files --cached --others --exclude-standard '*.cpp' '*.h' |
  grep -v -e '^src/pretokenize_unicode.cpp$' -e '^tests/fixtures/')
if [[ "${1:-}" == "--check" ]]; then
  bad=0
  for f in "${files[@]}"; do
    if ! "$format" --style=file "$f" | cmp -s - "$f"; then echo "not formatted: $f" >&2; bad=1; fi
  done
  if ((bad)); then echo "run tools/format.sh to format them" >&2; exit 1; fi
  echo "${#files[@]} files formatted as .clang-format says"
else
  "$format" --style=file -i "${files[@]}"
fi
