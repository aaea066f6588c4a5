// positions as a terminal table: one line per position (positions.h).
#include <cstdio>
#include <string>

#include "tinygpt/positions.h"

namespace tinygpt {
namespace {

std::string kind(const PositionTable& t) { return t.learned ? "learned (rows of wpe)" : "sin/cos table"; }

std::string fixed(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%8.4f", v);
  return buf;
}

// norm, cos with position 0, cos with the position before ("" for position 0).
std::string columns(const PositionTable& t, std::size_t p) {
  return fixed(t.norms[p]) + "  " + fixed(t.similarity[p][0]) + "  " +
         (p == 0 ? std::string(8, ' ') : fixed(t.similarity[p][p - 1]));
}

}  // namespace

std::string positions_text(const PositionsReport& r) {
  const std::size_t count = r.model.vectors.size();
  const std::size_t dim = count ? r.model.vectors[0].size() : 0;
  std::string out = r.model_name + ": positions 0.." + std::to_string(count - 1) + " of " + std::to_string(r.n_ctx) +
                    ", " + std::to_string(dim) + " dimensions, " + kind(r.model) + "\n";
  if (r.sinusoid) out += "compared with the " + kind(*r.sinusoid) + " of the same size\n";
  out += "\npos      norm  cos(p,0)  cos(p,p-1)";
  if (r.sinusoid) out += "  |  sin/cos    norm  cos(p,0)  cos(p,p-1)";
  out += "\n";
  for (std::size_t p = 0; p < count; ++p) {
    char pos[24];
    std::snprintf(pos, sizeof pos, "%3zu", p);
    out += pos + std::string("  ") + columns(r.model, p);
    if (r.sinusoid) out += "  |  " + std::string(7, ' ') + columns(*r.sinusoid, p);
    while (out.back() == ' ') out.pop_back();  // position 0 has no position before it
    out += "\n";
  }
  return out;
}

}  // namespace tinygpt
