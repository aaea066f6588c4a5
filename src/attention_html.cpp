// A dump as one self-contained page: pick a layer and head, hover a token.
#include "tinygpt/attention_dump.h"

#include <nlohmann/json.hpp>

#include "attention_format.h"
#include "attention_viewer_assets.h"
#include "svg.h"

namespace tinygpt {

using namespace attention_format;

namespace {

// The page's data, safe inside <script>: every '<' (only ever inside JSON strings) is escaped
// so no token can close the element, and so are the noncharacters U+FFFE and U+FFFF, which
// an HTML parser reports as errors; JSON.parse reads all three back unchanged.
std::string page_data(const AttentionDump& d) {
  nlohmann::json attention = nlohmann::json::array();
  for (std::size_t ls = 0; ls < d.layers.size(); ++ls) {
    nlohmann::json layer = nlohmann::json::array();
    for (std::size_t hs = 0; hs < d.heads.size(); ++hs) {
      nlohmann::json head = nlohmann::json::array();
      for (int q = 0; q < d.n_tokens(); ++q) {
        const auto r = d.row(ls, hs, q);
        nlohmann::json row = nlohmann::json::array();  // keys 0..q: the mask is implied
        for (int k = 0; k <= q; ++k) row.push_back(float_value(r[static_cast<std::size_t>(k)]));
        head.push_back(std::move(row));
      }
      layer.push_back(std::move(head));
    }
    attention.push_back(std::move(layer));
  }
  const nlohmann::json j = {
      {"sentence", d.sentence}, {"pieces", d.pieces}, {"ids", d.ids},     {"n_layer", d.n_layer},
      {"n_head", d.n_head},     {"layers", d.layers}, {"heads", d.heads}, {"attention", std::move(attention)}};
  const std::string text = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const std::string_view rest = std::string_view(text).substr(i, 3);
    if (text[i] == '<') {
      out += "\\u003c";
    } else if (rest == "\xEF\xBF\xBE" || rest == "\xEF\xBF\xBF") {
      out += rest.back() == '\xBE' ? "\\ufffe" : "\\uffff";
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

}  // namespace

std::string attention_html(const AttentionDump& d) {
  const std::string title = "Attention: " + svg::escape(d.sentence);
  // The page's fixed parts are files in assets/attention_viewer/, compiled in by the build
  // (attention_viewer_assets.h), so the HTML, CSS and JS can be read and edited as what they are.
  std::string o(assets::viewer_head_html);
  o += "<title>" + title + "</title>\n";
  o += "<style>body { font-family: " + std::string(svg::kFontFamily) + "; }</style>\n";
  o += "<style>\n";
  o += assets::viewer_css;
  o += "</style>\n</head>\n<body>\n";
  o += "<h1>" + title + "</h1>\n";
  o += "<div class=\"meta\">" + std::to_string(d.n_tokens()) + " tokens; model with " + std::to_string(d.n_layer) +
       " layers &times; " + std::to_string(d.n_head) + " heads";
  if (d.layers.size() != static_cast<std::size_t>(d.n_layer) || d.heads.size() != static_cast<std::size_t>(d.n_head))
    o += " (" + std::to_string(d.layers.size()) + " layers &times; " + std::to_string(d.heads.size()) +
         " heads included)";
  o += "</div>\n";
  o += assets::viewer_controls_html;
  o += "<script id=\"attention-data\" type=\"application/json\">" + page_data(d) + "</script>\n";
  o += "<script>\n";
  o += assets::viewer_js;
  o += "</script>\n";
  o += "</body>\n</html>\n";
  return o;
}

}  // namespace tinygpt
