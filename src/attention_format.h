#pragma once
// Formatting shared by the attention renderers (table, SVG, HTML, JSON, CSV); private to
// src/, not part of the public headers.
#include <cstddef>
#include <string>

#include "tinygpt/attention_dump.h"

namespace tinygpt::attention_format {

// Longer tokens are cut with …: query labels get a little more room than key columns.
inline constexpr int kMaxLabelWidth = 10;  // SVG labels and table rows
inline constexpr int kMaxColumnWidth = 8;  // table columns

// The shortest decimal that reads back as the same float, as text or as a double: JSON
// and CSV then carry 0.41234568 rather than float-to-double noise like 0.41234567761421204.
std::string float_text(float f);
double float_value(float f);
// printf("%.*f")
std::string fixed(double v, int decimals);
// "L0 H1" for a captured layer and head slot.
std::string head_name(const AttentionDump& d, std::size_t layer_slot, std::size_t head_slot);
// Cuts a label to `max_width` terminal columns, ending it with … when something was cut.
std::string fit(const std::string& s, int max_width);
// Pads to `width` terminal columns (CJK characters count two).
std::string pad_left(const std::string& s, int width);
std::string pad_right(const std::string& s, int width);
// "#rrggbb", light to dark blue as the weight goes from 0 to 1.
std::string weight_color(float w);

}  // namespace tinygpt::attention_format
