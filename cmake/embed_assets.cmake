# Writes a C++ source that holds files' bytes as std::string_view constants, so text assets
# (HTML, CSS, JS) live in files of their own and still end up inside the binary.
#   cmake -DOUTPUT=out.cpp -DHEADER=name.h -DNAMESPACE=ns -DASSETS="var=path|var=path" -P embed_assets.cmake
# Bytes are written as numbers, so no content can break the generated code.
set(code "// Generated from ${ASSETS} by cmake/embed_assets.cmake: do not edit.\n#include \"${HEADER}\"\n\nnamespace ${NAMESPACE} {\n")
string(REPLACE "|" ";" ASSETS "${ASSETS}")
foreach(asset IN LISTS ASSETS)
  string(REPLACE "=" ";" parts "${asset}")
  list(GET parts 0 var)
  list(GET parts 1 path)
  file(READ "${path}" hex HEX)
  string(LENGTH "${hex}" hex_length)
  math(EXPR size "${hex_length} / 2")
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "'\\\\x\\1'," bytes "${hex}")
  string(APPEND code "\nnamespace {\nconstexpr char ${var}_bytes[${size} + 1] = {${bytes}'\\0'};\n}\nconst std::string_view ${var}(${var}_bytes, ${size});\n")
endforeach()
string(APPEND code "\n}  // namespace ${NAMESPACE}\n")
file(WRITE "${OUTPUT}.tmp" "${code}")
file(RENAME "${OUTPUT}.tmp" "${OUTPUT}")
