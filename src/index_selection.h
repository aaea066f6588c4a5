#pragma once
// Which layers or heads a view keeps: the numbers a caller asked for, checked against the
// model's count, sorted, each once; all of them when none were asked for.
#include <string>
#include <vector>

namespace tinygpt {

// Throws Error(usage) naming the parameter `noun` ("layer 9 is out of range: the model has
// 4 layers, numbered 0..3").
std::vector<int> resolve_indices(const std::vector<int>& wanted, int count, const std::string& noun);

}  // namespace tinygpt
