// Training curves as a PNG, without TensorBoard: loss and accuracy per epoch, drawn with cairo.
//
//   std::map<std::string, std::vector<double>> history{
//       {"loss", {0.9, 0.6, 0.5}}, {"val_loss", {0.7, 0.6, 0.55}},
//       {"accuracy", {0.7, 0.8, 0.83}}, {"val_accuracy", {0.75, 0.79, 0.81}}};
//   nabla::plot::training_curves(history, "curves.png");
//
// One panel per metric: "X" and "val_X" share the panel of X (train solid blue, validation
// dashed orange), loss first, then accuracy, then any other metric in name order. Keras'
// History::history has exactly this shape. Epochs are numbered from 1 on the x axis.
#pragma once
#include <map>
#include <string>
#include <vector>

#include "nabla/tensor.h"

namespace nabla::plot {

struct CurvesOptions {
  int panel_width = 520;  ///< pixels per panel
  int height = 400;       ///< pixels
  std::string title = {};  ///< drawn above the panels when not empty
};

/// Draws the curves of `history` (metric name -> value per epoch) and writes them to `path` as a
/// PNG, atomically. Throws nabla::Error on an empty history or a series with no values.
void training_curves(const std::map<std::string, std::vector<double>>& history, const std::string& path,
                     const CurvesOptions& options = {});
/// The same picture as an RGB uint8 tensor [H, W, 3] (e.g. for SummaryWriter::add_image with "HWC").
Tensor render_training_curves(const std::map<std::string, std::vector<double>>& history,
                              const CurvesOptions& options = {});

}  // namespace nabla::plot
