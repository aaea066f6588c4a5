#pragma once
// The attention viewer's fixed parts, from assets/attention_viewer/, compiled in at build
// time (cmake/embed_assets.cmake writes their bytes into attention_viewer_assets.cpp).
#include <string_view>

namespace tinygpt::assets {

extern const std::string_view viewer_head_html;      // head.html: doctype, <head> meta tags
extern const std::string_view viewer_css;            // viewer.css
extern const std::string_view viewer_controls_html;  // controls.html: the layer/head pickers, the views
extern const std::string_view viewer_js;             // viewer.js: draws everything from the page's data

}  // namespace tinygpt::assets
