// positions as JSON (positions.h).
#include <nlohmann/json.hpp>

#include "tinygpt/positions.h"

namespace tinygpt {
namespace {

nlohmann::json table_json(const PositionTable& t) {
  return {{"kind", t.learned ? "learned" : "sinusoidal"},
          {"vectors", t.vectors},
          {"norms", t.norms},
          {"similarity", t.similarity}};
}

}  // namespace

nlohmann::json positions_json(const PositionsReport& r) {
  nlohmann::json j = {{"model", r.model_name},
                      {"n_ctx", r.n_ctx},
                      {"count", r.model.vectors.size()},
                      {"dim", r.model.vectors.empty() ? 0 : r.model.vectors[0].size()}};
  j.update(table_json(r.model));
  if (r.sinusoid) j["compare"] = table_json(*r.sinusoid);
  return j;
}

}  // namespace tinygpt
