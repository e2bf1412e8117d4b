// Builders of TensorBoard Summary protos, one per dashboard, following what PyTorch's
// torch.utils.tensorboard.summary writes. Internal: SummaryWriter wraps them.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "nabla/tensor.h"
#include "nabla/tensorboard/summary_writer.h"
#include "tensorboard/summary.pb.h"

namespace nabla::tensorboard::detail {

/// Pixels as 8-bit HWC, the form the PNG encoder takes.
struct Image8 {
  int height = 0, width = 0, channels = 0;
  std::vector<uint8_t> pixels;
};

/// The bucket edges PyTorch's add_histogram uses by default (TensorFlow's): 0 and +-1e-12 * 1.1^k
/// up to 1e20, 1,549 edges in all.
const std::vector<double>& default_bins();

/// numpy.histogram(values, bins=edges) then PyTorch's trimming to the non-empty range, with one
/// empty bucket on the left so that the first non-empty bucket has a left edge. Throws on empty or
/// non-finite input.
::tensorboard::HistogramProto make_histogram(const std::string& tag, const std::vector<double>& values,
                                             const std::vector<double>& edges);

/// An image tensor (layout `dataformats`: CHW, HWC, HW; NCHW / NHWC tile the batch into a grid of
/// up to 8 columns) as 8-bit pixels. uint8 is taken as is; other dtypes are clamped to [0, 1] and
/// scaled by 255 with truncation, as PyTorch does.
Image8 to_image8(const std::string& tag, const Tensor& img, const std::string& dataformats);

::tensorboard::Summary scalar_summary(const std::string& tag, double value);
::tensorboard::Summary histogram_summary(const std::string& tag, const Tensor& values);
::tensorboard::Summary image_summary(const std::string& tag, const Image8& img);
::tensorboard::Summary text_summary(const std::string& tag, const std::string& text);
/// The three hparams-plugin summaries: experiment, session start, session end.
std::vector<::tensorboard::Summary> hparams_summaries(const std::map<std::string, HParam>& hparams,
                                                      const std::map<std::string, double>& metrics);

}  // namespace nabla::tensorboard::detail
