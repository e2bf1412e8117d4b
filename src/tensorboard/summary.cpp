#include "tensorboard/summary.h"

#include <algorithm>
#include <cmath>

#include "nabla/creation.h"
#include "nabla/error.h"
#include "nabla/ops.h"
#include "tensorboard/hparams_plugin_data.pb.h"
#include "tensorboard/png_encoder.h"

namespace nabla::tensorboard::detail {

const std::vector<double>& default_bins() {
  // Built by repeated multiplication in double, exactly as PyTorch's SummaryWriter.__init__ does,
  // so the edges match bit for bit.
  static const std::vector<double> edges = [] {
    std::vector<double> pos;
    for (double v = 1e-12; v < 1e20; v *= 1.1) pos.push_back(v);
    std::vector<double> all;
    all.reserve(2 * pos.size() + 1);
    for (auto it = pos.rbegin(); it != pos.rend(); ++it) all.push_back(-*it);
    all.push_back(0.0);
    all.insert(all.end(), pos.begin(), pos.end());
    return all;
  }();
  return edges;
}

::tensorboard::HistogramProto make_histogram(const std::string& tag, const std::vector<double>& values,
                                             const std::vector<double>& edges) {
  NABLA_CHECK(!values.empty(), "add_histogram: '", tag, "': the tensor has no elements");
  NABLA_CHECK(edges.size() >= 2, "add_histogram: '", tag, "': need at least 2 bin edges, got ", edges.size());
  size_t bad = std::count_if(values.begin(), values.end(), [](double v) { return !std::isfinite(v); });
  NABLA_CHECK(bad == 0, "add_histogram: '", tag, "': expected finite values, got ", bad, " NaN/Inf of ",
              values.size());
  // numpy semantics: bin i holds edges[i] <= v < edges[i+1], the last bin also holds v == edges.back();
  // values outside [edges.front(), edges.back()] are not counted.
  size_t nbins = edges.size() - 1;
  std::vector<double> counts(nbins, 0.0);
  double mn = values[0], mx = values[0], sum = 0, sum_sq = 0;
  for (double v : values) {
    mn = std::min(mn, v), mx = std::max(mx, v), sum += v, sum_sq += v * v;
    if (v < edges.front() || v > edges.back()) continue;
    size_t i = std::upper_bound(edges.begin(), edges.end(), v) - edges.begin();  // first edge > v
    counts[std::min(i - 1, nbins - 1)] += 1;
  }
  // PyTorch's make_histogram: keep bins [start, end) spanning the non-empty ones, plus the empty bin
  // on their left (or a zero bin with the first edge as its limit when start == 0), since
  // TensorBoard only stores right edges.
  ::tensorboard::HistogramProto h;
  h.set_min(mn), h.set_max(mx), h.set_num(double(values.size())), h.set_sum(sum), h.set_sum_squares(sum_sq);
  auto first = std::find_if(counts.begin(), counts.end(), [](double c) { return c > 0; });
  if (first == counts.end()) {  // every value fell outside the edges: report a single empty bucket
    h.add_bucket_limit(edges.back()), h.add_bucket(0);
    return h;
  }
  size_t start = first - counts.begin();
  size_t end = nbins - (std::find_if(counts.rbegin(), counts.rend(), [](double c) { return c > 0; }) -
                        counts.rbegin());
  if (start == 0) h.add_bucket(0);
  for (size_t i = start == 0 ? 0 : start - 1; i < end; ++i) h.add_bucket(counts[i]);
  for (size_t i = start; i <= end; ++i) h.add_bucket_limit(edges[i]);
  return h;
}

namespace {

// CHW / HWC / HW as a [H, W, C] view.
Tensor hwc_view(const std::string& tag, const Tensor& t, const std::string& fmt) {
  NABLA_CHECK(t.dim() == int(fmt.size()), "add_image: '", tag, "': dataformats '", fmt, "' needs a ",
              fmt.size(), "-d tensor, got shape ", t.shape());
  if (fmt == "HW") return t.unsqueeze(2);
  if (fmt == "HWC") return t;
  if (fmt == "CHW") return t.permute({1, 2, 0});
  ::nabla::detail::throw_error("add_image: '", tag,
                               "': dataformats must be CHW, HWC, HW, NCHW or NHWC, got '", fmt, "'");
}

}  // namespace

Image8 to_image8(const std::string& tag, const Tensor& img, const std::string& dataformats) {
  Tensor t = img.detach().cpu();
  if (dataformats == "NCHW" || dataformats == "NHWC") {
    // A batch becomes one image: a grid of up to 8 columns, as PyTorch's add_images (make_grid).
    NABLA_CHECK(t.dim() == 4, "add_images: '", tag, "': dataformats '", dataformats,
                "' needs a 4-d tensor, got shape ", t.shape());
    if (dataformats == "NCHW") t = t.permute({0, 2, 3, 1});
    int64_t n = t.size(0), h = t.size(1), w = t.size(2), c = t.size(3);
    NABLA_CHECK(n > 0, "add_images: '", tag, "': the batch is empty");
    int64_t cols = std::min<int64_t>(n, 8), rows = (n + cols - 1) / cols;
    // [rows*cols, H, W, C] -> [rows, H, cols, W, C] -> [rows*H, cols*W, C], padding with black images.
    if (rows * cols > n) {
      Tensor pad = nabla::zeros({rows * cols - n, h, w, c}, t.dtype());
      t = nabla::cat({t, pad}, 0);
    }
    t = t.reshape({rows, cols, h, w, c}).permute({0, 2, 1, 3, 4}).reshape({rows * h, cols * w, c});
  } else {
    t = hwc_view(tag, t, dataformats);
  }
  Image8 out;
  out.height = int(t.size(0)), out.width = int(t.size(1)), out.channels = int(t.size(2));
  NABLA_CHECK(out.channels == 1 || out.channels == 3 || out.channels == 4, "add_image: '", tag,
              "': expected 1, 3 or 4 channels, got ", out.channels, " (shape ", img.shape(),
              ", dataformats '", dataformats, "')");
  NABLA_CHECK(out.height > 0 && out.width > 0, "add_image: '", tag, "': the image is empty (shape ",
              img.shape(), ")");
  out.pixels.resize(size_t(t.numel()));
  if (t.dtype() == kUInt8) {
    Tensor c = t.contiguous();
    std::copy_n(c.data_ptr<uint8_t>(), out.pixels.size(), out.pixels.begin());
  } else {
    Tensor c = t.to(kFloat32).contiguous();
    const float* p = c.data_ptr<float>();
    for (size_t i = 0; i < out.pixels.size(); ++i) {
      float v = std::isnan(p[i]) ? 0.0f : std::clamp(p[i], 0.0f, 1.0f);
      out.pixels[i] = static_cast<uint8_t>(v * 255.0f);  // truncation, as numpy's astype(uint8)
    }
  }
  return out;
}

::tensorboard::Summary scalar_summary(const std::string& tag, double value) {
  ::tensorboard::Summary s;
  auto* v = s.add_value();
  v->set_tag(tag);
  v->set_simple_value(static_cast<float>(value));
  return s;
}

::tensorboard::Summary histogram_summary(const std::string& tag, const Tensor& values) {
  Tensor t = values.detach().cpu().to(kFloat64).contiguous();
  const double* p = t.data_ptr<double>();
  std::vector<double> v(p, p + t.numel());
  ::tensorboard::Summary s;
  auto* val = s.add_value();
  val->set_tag(tag);
  *val->mutable_histo() = make_histogram(tag, v, default_bins());
  return s;
}

::tensorboard::Summary image_summary(const std::string& tag, const Image8& img) {
  ::tensorboard::Summary s;
  auto* v = s.add_value();
  v->set_tag(tag);
  auto* im = v->mutable_image();
  im->set_height(img.height);
  im->set_width(img.width);
  im->set_colorspace(img.channels);
  im->set_encoded_image_string(encode_png(img.pixels.data(), img.height, img.width, img.channels));
  return s;
}

// As PyTorch: a rank-1 string tensor under "<tag>/text_summary" with the text plugin's metadata
// (TextPluginData{version=0} serializes to no bytes).
::tensorboard::Summary text_summary(const std::string& tag, const std::string& text) {
  ::tensorboard::Summary s;
  auto* v = s.add_value();
  v->set_tag(tag + "/text_summary");
  v->mutable_metadata()->mutable_plugin_data()->set_plugin_name("text");
  auto* t = v->mutable_tensor();
  t->set_dtype(::tensorboard::DT_STRING);
  t->mutable_tensor_shape()->add_dim()->set_size(1);
  t->add_string_val(text);
  return s;
}

namespace {

::tensorboard::Summary hparams_value(const char* tag, const ::tensorboard::hparams::HParamsPluginData& data) {
  ::tensorboard::Summary s;
  auto* v = s.add_value();
  v->set_tag(tag);
  auto* pd = v->mutable_metadata()->mutable_plugin_data();
  pd->set_plugin_name("hparams");
  pd->set_content(data.SerializeAsString());
  return s;
}

}  // namespace

std::vector<::tensorboard::Summary> hparams_summaries(const std::map<std::string, HParam>& hparams,
                                                      const std::map<std::string, double>& metrics) {
  namespace hp = ::tensorboard::hparams;
  hp::HParamsPluginData exp, start, end;
  auto* experiment = exp.mutable_experiment();
  auto* ssi = start.mutable_session_start_info();
  for (const auto& [name, value] : hparams) {
    auto* info = experiment->add_hparam_infos();
    info->set_name(name);
    google::protobuf::Value& v = (*ssi->mutable_hparams())[name];
    if (const double* d = std::get_if<double>(&value.value)) {
      info->set_type(hp::DATA_TYPE_FLOAT64), v.set_number_value(*d);
    } else if (const bool* b = std::get_if<bool>(&value.value)) {
      info->set_type(hp::DATA_TYPE_BOOL), v.set_bool_value(*b);
    } else {
      info->set_type(hp::DATA_TYPE_STRING), v.set_string_value(std::get<std::string>(value.value));
    }
  }
  for (const auto& [name, value] : metrics) experiment->add_metric_infos()->mutable_name()->set_tag(name);
  end.mutable_session_end_info()->set_status(hp::STATUS_SUCCESS);
  // Tag names from tensorboard/plugins/hparams/metadata.py.
  return {hparams_value("_hparams_/experiment", exp), hparams_value("_hparams_/session_start_info", start),
          hparams_value("_hparams_/session_end_info", end)};
}

}  // namespace nabla::tensorboard::detail
