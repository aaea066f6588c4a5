#pragma once
// The trace page's fixed parts, from assets/trace_viewer/, compiled in at build time
// (cmake/embed_assets.cmake writes their bytes into trace_viewer_assets.cpp).
#include <string_view>

namespace tinygpt::assets {

extern const std::string_view trace_css;        // trace.css
extern const std::string_view trace_body_html;  // body.html: the sections, empty, for trace.js to fill
extern const std::string_view trace_js;         // trace.js: draws everything from the page's data

}  // namespace tinygpt::assets
