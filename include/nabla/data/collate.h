// collate: stacks examples into one batch (the default Dataset::get_batch and
// Pipeline::batch).
//   auto batch = nabla::data::collate({ds.get(0), ds.get(1)});   // data [2,
//   ...], target [2, ...]
#pragma once
#include <vector>

#include "nabla/data/dataset.h"

namespace nabla::data {

/// Stacks data and targets along a new leading dim. Undefined targets
/// (unlabelled examples) give an undefined batch target; shapes must agree
/// across the examples.
Example collate(const std::vector<Example>& examples);

}  // namespace nabla::data
