// Panels of per-epoch curves. Layout per panel: title on top, y ticks and label on the left,
// epoch ticks below, legend in the top-right corner of the plot area.
#include "nabla/plot/training_curves.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numbers>

#include "nabla/error.h"
#include "nabla/io/atomic_file.h"
#include "plot/canvas.h"

namespace nabla::plot {
namespace {

using detail::Align;
using detail::Canvas;

struct Panel {
  std::string metric;
  const std::vector<double>* train = nullptr;
  const std::vector<double>* val = nullptr;
};

// Loss first, then accuracy-like metrics, then the rest by name.
int panel_rank(const std::string& m) {
  if (m == "loss") return 0;
  if (m.find("loss") != std::string::npos) return 1;
  if (m.find("acc") != std::string::npos) return 2;
  return 3;
}

std::vector<Panel> make_panels(const std::map<std::string, std::vector<double>>& history) {
  NABLA_CHECK(!history.empty(), "training_curves: the history is empty");
  std::map<std::string, Panel> by_metric;
  for (const auto& [key, values] : history) {
    NABLA_CHECK(!values.empty(), "training_curves: series '", key, "' has no values");
    bool val = key.rfind("val_", 0) == 0;
    std::string metric = val ? key.substr(4) : key;
    Panel& p = by_metric[metric];
    p.metric = metric;
    (val ? p.val : p.train) = &values;
  }
  std::vector<Panel> panels;
  for (auto& [m, p] : by_metric) panels.push_back(p);
  std::stable_sort(panels.begin(), panels.end(), [](const Panel& a, const Panel& b) {
    return panel_rank(a.metric) < panel_rank(b.metric);
  });
  return panels;
}

// Heckbert's "nice numbers": a step of 1, 2 or 5 times a power of ten giving about `target` ticks.
double nice_step(double range, int target) {
  double raw = range / target;
  double mag = std::pow(10.0, std::floor(std::log10(raw)));
  double f = raw / mag;
  return (f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10) * mag;
}

std::string tick_label(double v, double step) {
  int decimals = std::max(0, int(-std::floor(std::log10(step) + 1e-9)));
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, std::abs(v) < step * 1e-6 ? 0.0 : v);
  return buf;
}

void draw_series(Canvas& c, const std::vector<double>& v, double x0, double y0, double w, double h,
                 int epochs, double lo, double hi, detail::Rgb colour, bool dashed) {
  cairo_t* cr = c.cr();
  auto px = [&](size_t i) { return epochs == 1 ? x0 + w / 2 : x0 + w * double(i) / (epochs - 1); };
  auto py = [&](double y) { return y0 + h - h * (y - lo) / (hi - lo); };
  c.colour(colour);
  cairo_set_line_width(cr, 2.5);
  static const double kDash[] = {7, 4};
  cairo_set_dash(cr, kDash, dashed ? 2 : 0, 0);
  bool pen = false;
  for (size_t i = 0; i < v.size(); ++i) {
    if (!std::isfinite(v[i])) {
      pen = false;
      continue;
    }
    pen ? cairo_line_to(cr, px(i), py(v[i])) : cairo_move_to(cr, px(i), py(v[i]));
    pen = true;
  }
  cairo_stroke(cr);
  cairo_set_dash(cr, nullptr, 0, 0);
  for (size_t i = 0; i < v.size(); ++i) {
    if (!std::isfinite(v[i])) continue;
    cairo_arc(cr, px(i), py(v[i]), 3.5, 0, 2 * std::numbers::pi);
    cairo_fill(cr);
  }
}

void draw_panel(Canvas& c, const Panel& p, double left, double top, double width, double height) {
  cairo_t* cr = c.cr();
  const double ml = 72, mr = 18, mt = 34, mb = 52;  // margins around the plot area
  double x0 = left + ml, y0 = top + mt, w = width - ml - mr, h = height - mt - mb;

  int epochs = 0;
  double lo = INFINITY, hi = -INFINITY;
  for (const auto* s : {p.train, p.val}) {
    if (!s) continue;
    epochs = std::max(epochs, int(s->size()));
    for (double v : *s)
      if (std::isfinite(v)) lo = std::min(lo, v), hi = std::max(hi, v);
  }
  if (!std::isfinite(lo)) lo = 0, hi = 1;  // nothing finite to draw: an empty frame
  if (hi - lo < 1e-12) lo -= 0.5, hi += 0.5;
  double pad = (hi - lo) * 0.06;
  lo -= pad, hi += pad;
  double step = nice_step(hi - lo, 5);

  // Grid and y ticks.
  cairo_set_line_width(cr, 1);
  for (double t = std::ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) {
    double y = y0 + h - h * (t - lo) / (hi - lo);
    c.colour({0.88, 0.88, 0.88});
    cairo_move_to(cr, x0, std::round(y) + 0.5);
    cairo_line_to(cr, x0 + w, std::round(y) + 0.5);
    cairo_stroke(cr);
    c.colour({0.15, 0.15, 0.15});
    c.text(tick_label(t, step), x0 - 8, y + 4.5, 13, Align::kRight);
  }
  // Epoch ticks (1-based), at most ~10 labels.
  int estep = std::max(1, int(std::ceil(epochs / 10.0)));
  for (int e = 0; e < epochs; e += estep) {
    double x = epochs == 1 ? x0 + w / 2 : x0 + w * double(e) / (epochs - 1);
    c.colour({0.15, 0.15, 0.15});
    cairo_move_to(cr, std::round(x) + 0.5, y0 + h);
    cairo_line_to(cr, std::round(x) + 0.5, y0 + h + 5);
    cairo_stroke(cr);
    c.text(std::to_string(e + 1), x, y0 + h + 20, 13, Align::kCentre);
  }
  // Frame, labels, title.
  c.colour({0.15, 0.15, 0.15});
  cairo_rectangle(cr, x0 + 0.5, y0 + 0.5, w, h);
  cairo_stroke(cr);
  c.text("epoch", x0 + w / 2, y0 + h + 42, 14, Align::kCentre);
  c.vertical_text(p.metric, left + 20, y0 + h / 2, 14);
  c.text(p.metric, x0 + w / 2, top + 22, 16, Align::kCentre, true);

  if (p.train) draw_series(c, *p.train, x0, y0, w, h, epochs, lo, hi, detail::kTrainColour, false);
  if (p.val) draw_series(c, *p.val, x0, y0, w, h, epochs, lo, hi, detail::kValColour, true);

  // Legend in the top-right corner, over a white box.
  std::vector<std::pair<std::string, const detail::Rgb*>> entries;
  if (p.train) entries.push_back({"train", &detail::kTrainColour});
  if (p.val) entries.push_back({"validation", &detail::kValColour});
  // Curves that end high (accuracy) would run under a top-right legend: put it bottom-right then.
  double tail_sum = 0;
  int tail_n = 0;
  for (const auto* s : {p.train, p.val})
    for (size_t i = s ? s->size() * 2 / 3 : 0; s && i < s->size(); ++i)
      if (std::isfinite((*s)[i])) tail_sum += ((*s)[i] - lo) / (hi - lo), ++tail_n;
  bool bottom = tail_n > 0 && tail_sum / tail_n > 0.5;
  double lw = 130, lh = 10 + 20.0 * entries.size(), lx = x0 + w - lw - 8;
  double ly = bottom ? y0 + h - lh - 8 : y0 + 8;
  cairo_set_source_rgba(cr, 1, 1, 1, 0.9);
  cairo_rectangle(cr, lx, ly, lw, lh);
  cairo_fill_preserve(cr);
  c.colour({0.7, 0.7, 0.7});
  cairo_set_line_width(cr, 1);
  cairo_stroke(cr);
  for (size_t i = 0; i < entries.size(); ++i) {
    double y = ly + 15 + 20.0 * i;
    c.colour(*entries[i].second);
    cairo_set_line_width(cr, 2.5);
    static const double kDash[] = {7, 4};
    cairo_set_dash(cr, kDash, i == 1 || !p.train ? 2 : 0, 0);
    cairo_move_to(cr, lx + 8, y);
    cairo_line_to(cr, lx + 38, y);
    cairo_stroke(cr);
    cairo_set_dash(cr, nullptr, 0, 0);
    c.colour({0.15, 0.15, 0.15});
    c.text(entries[i].first, lx + 46, y + 4.5, 13);
  }
}

void draw(Canvas& c, const std::vector<Panel>& panels, const CurvesOptions& o, double title_h) {
  if (!o.title.empty()) {
    c.colour({0.1, 0.1, 0.1});
    c.text(o.title, c.width() / 2.0, 26, 18, Align::kCentre, true);
  }
  for (size_t i = 0; i < panels.size(); ++i)
    draw_panel(c, panels[i], double(i) * o.panel_width, title_h, o.panel_width, o.height - title_h);
}

// Draws the panels and hands the canvas to `out` (PNG bytes or a tensor).
template <typename Out>
auto paint(const std::map<std::string, std::vector<double>>& history, const CurvesOptions& o, Out out) {
  auto panels = make_panels(history);
  NABLA_CHECK(o.panel_width >= 200 && o.height >= 150,
              "training_curves: panels must be at least 200 x 150 pixels, got ", o.panel_width, " x ",
              o.height);
  double title_h = o.title.empty() ? 0 : 36;
  Canvas c("training_curves", int(panels.size()) * o.panel_width, o.height);
  draw(c, panels, o, title_h);
  return out(c);
}

}  // namespace

Tensor render_training_curves(const std::map<std::string, std::vector<double>>& history,
                              const CurvesOptions& o) {
  return paint(history, o, [](Canvas& c) { return c.to_tensor(); });
}

void training_curves(const std::map<std::string, std::vector<double>>& history, const std::string& path,
                     const CurvesOptions& o) {
  io::write_file_atomic(path, paint(history, o, [](Canvas& c) { return c.png_bytes(); }));
}

}  // namespace nabla::plot
