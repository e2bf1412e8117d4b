// Tensor printing, following PyTorch's repr (torch/_tensor_str.py, torch 1.13) with its default
// print options: precision 4, line width 80, summarised past 1000 elements with 3 edge items.
// One difference: dtypes print as nabla spells them (dtype=float64, not dtype=torch.float64), and
// grad_fn shows the op name (grad_fn=<mul>).
#include <cmath>
#include <cstdio>
#include <sstream>
#include <string>
#include <vector>

#include "autograd/node.h"
#include "nabla/autograd.h"
#include "nabla/tensor.h"

namespace nabla {
namespace {

constexpr int kPrecision = 4;
constexpr int kLineWidth = 80;
constexpr int64_t kThreshold = 1000;
constexpr int64_t kEdgeItems = 3;

enum class Kind { Float, Int, Bool };

// The tensor's elements, row-major, as double (floats) or int64 (integers and bool).
struct Values {
  Kind kind;
  Shape shape;
  std::vector<double> f;
  std::vector<int64_t> i;
};

Values read_values(const Tensor& t) {
  Values v;
  v.kind = is_floating(t.dtype()) ? Kind::Float : t.dtype() == kBool ? Kind::Bool : Kind::Int;
  v.shape = t.shape();
  if (v.kind == Kind::Float)
    v.f = t.to_vector<double>();
  else
    v.i = t.to_vector<int64_t>();
  return v;
}

std::string printf_str(const char* fmt, double x) {
  char buf[64];
  std::snprintf(buf, sizeof buf, fmt, x);
  return buf;
}

// Python's "{}" / "{:.Nf}" / "{:.Ne}" for the values torch prints (nan never has a sign there).
std::string nonfinite(double x) { return std::isnan(x) ? "nan" : x > 0 ? "inf" : "-inf"; }

/// torch's _Formatter: picks integer, fixed or scientific notation and one width for all elements.
class Formatter {
 public:
  // `shown` = linear indices of the elements that will be printed (all, or the summarised edges).
  Formatter(const Values& v, const std::vector<int64_t>& shown) : v_(v) {
    if (v.kind != Kind::Float) {
      for (int64_t k : shown) width_ = std::max<int>(width_, plain(v.i[k]).size());
      return;
    }
    double lo = INFINITY, hi = 0;
    bool any = false;
    for (int64_t k : shown) {
      double x = v.f[k];
      if (!std::isfinite(x) || x == 0) continue;
      any = true;
      lo = std::min(lo, std::fabs(x));
      hi = std::max(hi, std::fabs(x));
      if (x != std::ceil(x)) int_mode_ = false;
    }
    if (!any) return;
    sci_ = hi / lo > 1000. || hi > 1.e8 || (!int_mode_ && lo < 1.e-4);
    for (int64_t k : shown) {
      double x = v.f[k];
      if (!std::isfinite(x) || x == 0) continue;
      int w = sci_        ? printf_str("%.4e", x).size()
              : int_mode_ ? printf_str("%.0f", x).size() + 1
                          : printf_str("%.4f", x).size();
      width_ = std::max(width_, w);
    }
  }
  int width() const { return width_; }
  std::string format(int64_t k) const {
    std::string s;
    if (v_.kind != Kind::Float) {
      s = plain(v_.i[k]);
    } else {
      double x = v_.f[k];
      if (!std::isfinite(x))
        s = nonfinite(x);
      else if (sci_)
        s = printf_str("%.4e", x);
      else if (int_mode_)
        s = printf_str("%.0f", x) + ".";
      else
        s = printf_str("%.4f", x);
    }
    if (static_cast<int>(s.size()) < width_) s.insert(0, width_ - s.size(), ' ');
    return s;
  }

 private:
  std::string plain(int64_t x) const {
    return v_.kind == Kind::Bool ? (x ? "True" : "False") : std::to_string(x);
  }
  const Values& v_;
  bool int_mode_ = true;
  bool sci_ = false;
  int width_ = 1;
};

// Indices printed along a dim of size n: all, or the first and last kEdgeItems when summarising.
std::vector<int64_t> shown_along(int64_t n, bool summarize) {
  std::vector<int64_t> r;
  for (int64_t i = 0; i < n; ++i)
    if (!summarize || n <= 2 * kEdgeItems || i < kEdgeItems || i >= n - kEdgeItems) r.push_back(i);
  return r;
}

void collect_shown(const Shape& s, int d, int64_t base, bool summarize, std::vector<int64_t>& out) {
  if (d == s.size()) {
    out.push_back(base);
    return;
  }
  int64_t inner = 1;
  for (int k = d + 1; k < s.size(); ++k) inner *= s[k];
  for (int64_t i : shown_along(s[d], summarize)) collect_shown(s, d + 1, base + i * inner, summarize, out);
}

class Printer {
 public:
  Printer(const Values& v, const Formatter& f, bool summarize) : v_(v), f_(f), summarize_(summarize) {}

  // _tensor_str_with_formatter for dims [d, ndim) starting at element `base`.
  std::string str(int d, int64_t base, int indent) const {
    const Shape& s = v_.shape;
    int64_t inner = 1;
    for (int k = d + 1; k < s.size(); ++k) inner *= s[k];
    bool cut = summarize_ && s[d] > 2 * kEdgeItems;
    if (d == s.size() - 1) return vector_str(base, s[d], cut, indent);
    std::vector<std::string> parts;
    for (int64_t i : shown_along(s[d], summarize_)) {
      if (cut && i == s[d] - kEdgeItems) parts.push_back("...");
      parts.push_back(str(d + 1, base + i * inner, indent + 1));
    }
    std::string sep = "," + std::string(s.size() - d - 1, '\n') + std::string(indent + 1, ' ');
    return "[" + join(parts, sep) + "]";
  }

 private:
  std::string vector_str(int64_t base, int64_t n, bool cut, int indent) const {
    int per_line = std::max(1, (kLineWidth - indent) / (f_.width() + 2));
    std::vector<std::string> data;
    for (int64_t i : shown_along(n, summarize_)) {
      if (cut && i == n - kEdgeItems) data.push_back(" ...");
      data.push_back(f_.format(base + i));
    }
    std::vector<std::string> lines;
    for (size_t k = 0; k < data.size(); k += per_line)
      lines.push_back(join({data.begin() + k, data.begin() + std::min(data.size(), k + per_line)}, ", "));
    return "[" + join(lines, ",\n" + std::string(indent + 1, ' ')) + "]";
  }
  static std::string join(const std::vector<std::string>& parts, const std::string& sep) {
    std::string r;
    for (size_t k = 0; k < parts.size(); ++k) r += (k ? sep : "") + parts[k];
    return r;
  }
  const Values& v_;
  const Formatter& f_;
  bool summarize_;
};

std::string shape_tuple(const Shape& s) {
  std::string r = "(";
  for (int k = 0; k < s.size(); ++k) r += (k ? ", " : "") + std::to_string(s[k]);
  return r + (s.size() == 1 ? ",)" : ")");
}

// _add_suffixes: ", suffix" while the line stays within 80 columns, else a new indented line.
std::string add_suffixes(std::string body, const std::vector<std::string>& suffixes, int indent) {
  size_t nl = body.rfind('\n');
  int64_t last =
      static_cast<int64_t>(body.size()) - (nl == std::string::npos ? -1 : static_cast<int64_t>(nl)) + 1;
  for (const std::string& s : suffixes) {
    if (last + static_cast<int64_t>(s.size()) + 2 > kLineWidth) {
      body += ",\n" + std::string(indent, ' ') + s;
      last = indent + s.size();
    } else {
      body += ", " + s;
      last += s.size() + 2;
    }
  }
  return body + ")";
}

}  // namespace

std::string to_string(const Tensor& t) {
  if (!t.defined()) return "tensor(undefined)";
  const std::string prefix = "tensor(";
  const int indent = prefix.size();
  std::vector<std::string> suffixes;
  if (!t.device().is_cpu()) {
    std::ostringstream d;
    d << "device='" << t.device() << "'";
    suffixes.push_back(d.str());
  }
  DType dt = t.dtype();
  std::string body;
  if (t.numel() == 0) {
    if (t.dim() != 1) suffixes.push_back("size=" + shape_tuple(t.shape()));
    if (dt != default_dtype()) suffixes.push_back(std::string("dtype=") + dtype_name(dt));
    body = "[]";
  } else {
    if (dt != default_dtype() && dt != kInt64 && dt != kBool)
      suffixes.push_back(std::string("dtype=") + dtype_name(dt));
    Values v;
    {
      NoGradGuard no_grad;  // reading the values must not record anything
      v = read_values(t.detach());
    }
    bool summarize = t.numel() > kThreshold;
    std::vector<int64_t> shown;
    collect_shown(v.shape, 0, 0, summarize, shown);
    Formatter f(v, shown);
    body = t.dim() == 0 ? f.format(0) : Printer(v, f, summarize).str(0, 0, indent);
  }
  if (t.grad_fn())
    suffixes.push_back("grad_fn=<" + autograd::node_name(*t.grad_fn()) + ">");
  else if (t.requires_grad())
    suffixes.push_back("requires_grad=True");
  return add_suffixes(prefix + body, suffixes, indent);
}

std::ostream& operator<<(std::ostream& os, const Tensor& t) { return os << to_string(t); }

}  // namespace nabla
