#!/usr/bin/env bash
# The library as another project sees it:
#   1. examples/simple (built in this tree) prints what `tiny-gpt generate` prints for the
#      same prompt, seed and length;
#   2. `cmake --install` into a scratch prefix installs only public headers, each of which
#      compiles on its own, and a CMake package that names none of spdlog, CLI11 or Eigen;
#   3. examples/ configured as a separate project finds the package (find_package(tinygpt)),
#      links tinygpt::tinygpt, and the program it builds prints the same text again.
#   run_install_test.sh BUILD_DIR SOURCE_DIR WORK_DIR
set -euo pipefail
build=$(realpath "$1") src=$(realpath "$2") work=$(realpath -m "$3")
fail() { echo "FAIL: $*" >&2; exit 1; }
rm -rf "$work" && mkdir -p "$work"
prompt="床前明月光" seed=7

model="$src/models/tang-poems.json"
want=$("$build/tiny-gpt" generate "$prompt" -m "$model" --seed $seed -n 50 2>/dev/null)
[[ -n "$want" ]] || fail "tiny-gpt generate printed nothing"
got=$("$build/simple" "$model" "$prompt" $seed 2>/dev/null)
[[ "$got" == "$want" ]] || fail "examples/simple in the build tree printed
$got
but tiny-gpt generate printed
$want"
echo "ok: examples/simple == tiny-gpt generate (seed $seed)"

prefix="$work/prefix"
cmake --install "$build" --prefix "$prefix" >/dev/null
headers=$(cd "$prefix/include/tinygpt" && ls)
[[ "$headers" == "$(cd "$src/include/tinygpt" && ls)" ]] || fail "installed headers differ from include/tinygpt: $headers"
for h in $headers; do
  echo "#include <tinygpt/$h>" | g++ -std=c++20 -fsyntax-only -I"$prefix/include" -x c++ - ||
    fail "installed header tinygpt/$h does not compile on its own"
done
echo "ok: $(echo $headers | wc -w) public headers installed, each compiles alone"
config_dir=$(dirname "$(find "$prefix" -name tinygptConfig.cmake | head -1)")
[[ -f "$config_dir/tinygptConfigVersion.cmake" && -f "$config_dir/tinygptTargets.cmake" ]] || fail "no CMake package in $prefix"
if grep -nE "spdlog|CLI11|Eigen" "$config_dir"/tinygptTargets*.cmake; then fail "the installed package leaks a private dependency"; fi
[[ -f "$prefix/bin/tiny-gpt" && -f "$prefix/share/tiny-gpt/models/tang-poems.json" ]] || fail "binary or models not installed"
echo "ok: package in ${config_dir#$prefix/}, no spdlog/CLI11/Eigen in it"

cmake -S "$src/examples" -B "$work/example" -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$work/example" -j2 >/dev/null
installed_model="$prefix/share/tiny-gpt/models/tang-poems.json"
got=$("$work/example/simple" "$installed_model" "$prompt" $seed 2>/dev/null)
[[ "$got" == "$want" ]] || fail "examples/simple built against the installed package printed
$got
expected
$want"
echo "ok: examples/simple built with find_package(tinygpt) against the install prints the same text"
