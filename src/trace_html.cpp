// A trace as one page. The page's fixed parts are files in assets/ (the head shared with
// the attention viewer; assets/trace_viewer/ for the rest), compiled in by the build.
#include <nlohmann/json.hpp>
#include <string>

#include "attention_viewer_assets.h"
#include "svg.h"
#include "tinygpt/trace.h"
#include "trace_viewer_assets.h"

namespace tinygpt {

std::string trace_html(const Trace& t) {
  // The data, safe inside <script>: every '<' (only ever inside JSON strings) is escaped so
  // no token can close the element.
  std::string data;
  for (const char c : trace_json(t).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)) {
    if (c == '<') data += "\\u003c";
    else data += c;
  }
  const TraceToken& at = t.tokens[static_cast<std::size_t>(t.position)];
  const std::string title = "Trace: " + svg::escape(t.text);
  std::string o(assets::viewer_head_html);
  o += "<title>" + title + "</title>\n";
  o += "<style>body { font-family: " + std::string(svg::kFontFamily) + "; }\n";
  o += assets::trace_css;
  o += "</style>\n</head>\n<body>\n";
  o += "<h1>" + title + "</h1>\n";
  o += "<div class=\"meta\">the prediction after position " + std::to_string(t.position) + " (" + svg::escape(at.text) +
       "); " + std::to_string(t.n_layer) + " layers &times; " + std::to_string(t.n_head) + " heads of " +
       std::to_string(t.head_dim) + "</div>\n";
  o += assets::trace_body_html;
  o += "<script id=\"trace-data\" type=\"application/json\">" + data + "</script>\n";
  o += "<script>\n";
  o += assets::trace_js;
  o += "</script>\n</body>\n</html>\n";
  return o;
}

}  // namespace tinygpt
