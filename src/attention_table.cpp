// The text views of a dump: one matrix per head, or one summary line per head.
#include "tinygpt/attention_dump.h"

#include <algorithm>

#include "attention_format.h"
#include "utf8.h"

namespace tinygpt {

using namespace attention_format;

namespace {

std::string summary_line(const AttentionDump& d, std::size_t ls, std::size_t hs) {
  std::string line = head_name(d, ls, hs) + ":";
  for (int q = 0; q < d.n_tokens(); ++q)
    line += " " + d.pieces[static_cast<std::size_t>(q)] + "\xE2\x86\x92" +  // →
            d.pieces[static_cast<std::size_t>(d.strongest_key(ls, hs, q))];
  return line + "\n";
}

}  // namespace

std::string attention_summary(const AttentionDump& d) {
  std::string out;
  for (std::size_t ls = 0; ls < d.layers.size(); ++ls)
    for (std::size_t hs = 0; hs < d.heads.size(); ++hs) out += summary_line(d, ls, hs);
  return out;
}

std::string attention_table(const AttentionDump& d) {
  const int T = d.n_tokens();
  std::vector<std::string> labels, columns;
  int label_width = 1, cell_width = 6;  // "*0.412"
  for (const auto& p : d.pieces) {
    labels.push_back(fit(p, kMaxLabelWidth));
    columns.push_back(fit(p, kMaxColumnWidth));
    label_width = std::max(label_width, utf8::display_width(labels.back()));
    cell_width = std::max(cell_width, utf8::display_width(columns.back()));
  }
  const int index_width = static_cast<int>(std::to_string(T - 1).size());
  const std::string margin(static_cast<std::size_t>(index_width + 1 + label_width), ' ');

  std::string out = "\"" + d.sentence + "\": " + std::to_string(T) + " tokens; rows: query, columns: key; " +
                    "* marks each row's strongest key; blank: masked (later tokens are not visible)\n";
  for (std::size_t ls = 0; ls < d.layers.size(); ++ls)
    for (std::size_t hs = 0; hs < d.heads.size(); ++hs) {
      out += "\n" + head_name(d, ls, hs) + " (layer " + std::to_string(d.layers[ls]) + ", head " +
             std::to_string(d.heads[hs]) + ")\n";
      std::string numbers = margin, names = margin;
      for (int k = 0; k < T; ++k) {
        numbers += " " + pad_left(std::to_string(k), cell_width);
        names += " " + pad_left(columns[static_cast<std::size_t>(k)], cell_width);
      }
      out += numbers + "\n" + names + "\n";
      for (int q = 0; q < T; ++q) {
        const auto r = d.row(ls, hs, q);
        const int best = d.strongest_key(ls, hs, q);
        out += pad_left(std::to_string(q), index_width) + " " +
               pad_right(labels[static_cast<std::size_t>(q)], label_width);
        for (int k = 0; k <= q; ++k)
          out += " " + pad_left((k == best ? "*" : "") + fixed(r[static_cast<std::size_t>(k)], 3), cell_width);
        out += "\n";
      }
      out += summary_line(d, ls, hs);
    }
  return out;
}

}  // namespace tinygpt
