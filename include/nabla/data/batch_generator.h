// batch_generator: the random source a DataLoader hands to the transform of
// each batch.
//   .transform = [](Example b) {
//     nabla::Generator* g = nabla::data::batch_generator();   // non-null
//     inside the loader b.data = b.data + nabla::randn(b.data.shape(), {}, g) *
//     0.01; return b;
//   }
// It is seeded from (loader seed, epoch, batch index), so random augmentation
// gives the same batches whatever num_workers is and whichever worker builds a
// batch.
#pragma once
#include "nabla/generator.h"

namespace nabla::data {

/// The current batch's generator inside a DataLoader transform; nullptr
/// elsewhere.
Generator* batch_generator();

namespace detail {
/// Installs g as the calling thread's batch generator for its scope.
class BatchGeneratorScope {
 public:
  explicit BatchGeneratorScope(Generator* g);
  ~BatchGeneratorScope();
  BatchGeneratorScope(const BatchGeneratorScope&) = delete;
  BatchGeneratorScope& operator=(const BatchGeneratorScope&) = delete;

 private:
  Generator* prev_;
};
}  // namespace detail

}  // namespace nabla::data
