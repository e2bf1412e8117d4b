// Model::summary: Keras 3's table (Layer (type) | Output Shape | Param # [| Connected to]) and
// the Total / Trainable / Non-trainable lines with sizes in bytes.
#include <cstdio>
#include <iostream>
#include <sstream>

#include "keras/graph.h"
#include "nabla/keras/model.h"
#include "nabla/keras/sequential.h"

namespace nabla::keras {
namespace {
std::string with_commas(int64_t n) {
  std::string s = std::to_string(n < 0 ? -n : n), out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (i && (s.size() - i) % 3 == 0) out += ',';
    out += s[i];
  }
  return n < 0 ? "-" + out : out;
}

/// Keras's readable_memory_size: powers of 1024, two decimals.
std::string readable_bytes(double bytes) {
  const char* units[] = {"B", "KB", "MB", "GB", "TB", "PB"};
  int u = 0;
  while (u < 5 && bytes / 1024 >= 1) bytes /= 1024, ++u;
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.2f %s", bytes, units[u]);
  return buf;
}

size_t display_width(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;  // count UTF-8 code points
  return n;
}

std::vector<std::string> split_lines(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string line;
  while (std::getline(ss, line)) out.push_back(line);
  if (out.empty()) out.push_back("");
  return out;
}

std::string repeat(const std::string& s, size_t n) {
  std::string out;
  for (size_t i = 0; i < n; ++i) out += s;
  return out;
}

std::string param_cell(const Layer& l) {
  if (!l.built()) return "0 (unbuilt)";
  return with_commas(l.count_params());
}
}  // namespace

std::vector<std::vector<std::string>> Model::summary_rows(bool& connected) const {
  std::vector<std::vector<std::string>> rows;
  connected = graph_ != nullptr && !graph_->sequential_like;
  if (!graph_) return rows;
  for (const auto& n : graph_->order) {
    // One row per call of a layer (a shared layer appears once per call, as in Keras).
    const auto& l = *n->layer;
    std::vector<std::string> row{l.layer_name() + " (" + l.type() + ")", shape_str(n->shape), param_cell(l)};
    if (connected) {
      std::string c;
      for (const auto& in : n->inputs)
        c += (c.empty() ? "" : "\n") + in.node()->layer->layer_name() + "[0][0]";
      row.push_back(c.empty() ? "-" : c);
    }
    rows.push_back(row);
  }
  return rows;
}

std::vector<std::vector<std::string>> Sequential::summary_rows(bool& connected) const {
  connected = false;
  std::vector<std::vector<std::string>> rows;
  for (const auto& l : layers_)
    rows.push_back({l->layer_name() + " (" + l->type() + ")", l->built() ? shape_str(l->output_shape()) : "?",
                    param_cell(*l)});
  return rows;
}

void Model::summary(std::ostream& os, const SummaryOptions& options) const {
  bool connected = false;
  auto rows = summary_rows(connected);
  std::vector<std::string> header{"Layer (type)", "Output Shape", "Param #"};
  std::vector<int> widths{31, 22, 13};
  if (connected) header.push_back("Connected to"), widths = {29, 22, 11, 20};
  if (!options.column_widths.empty()) widths = options.column_widths;
  widths.resize(header.size(), 12);
  for (const auto& r : rows)
    for (size_t c = 0; c < r.size(); ++c)
      for (const auto& line : split_lines(r[c])) widths[c] = std::max<int>(widths[c], display_width(line));
  const bool right[] = {false, false, true, false};

  auto rule = [&](const char* left, const char* fill, const char* mid, const char* end) {
    std::string s = left;
    for (size_t c = 0; c < widths.size(); ++c)
      s += repeat(fill, widths[c] + 2) + (c + 1 < widths.size() ? mid : end);
    return s + "\n";
  };
  auto line = [&](const std::vector<std::string>& cells, const char* bar) {
    std::string s = bar;
    for (size_t c = 0; c < widths.size(); ++c) {
      std::string pad(widths[c] - display_width(cells[c]), ' ');
      s += " " + (right[c] ? pad + cells[c] : cells[c] + pad) + " " + bar;
    }
    return s + "\n";
  };

  std::string out = "Model: \"" + name_ + "\"\n";
  out += rule("┏", "━", "┳", "┓");
  out += line(header, "┃");
  out += rule("┡", "━", "╇", "┩");
  for (size_t r = 0; r < rows.size(); ++r) {
    std::vector<std::vector<std::string>> cells;
    size_t height = 1;
    for (const auto& c : rows[r])
      cells.push_back(split_lines(c)), height = std::max(height, cells.back().size());
    for (size_t h = 0; h < height; ++h) {
      std::vector<std::string> l;
      for (const auto& c : cells) l.push_back(h < c.size() ? c[h] : "");
      out += line(l, "│");
    }
    out += r + 1 < rows.size() ? rule("├", "─", "┼", "┤") : rule("└", "─", "┴", "┘");
  }
  if (rows.empty()) out += rule("└", "─", "┴", "┘");

  int64_t total = 0, trainable = 0;
  double total_bytes = 0, trainable_bytes = 0;
  for (const auto& l : layers_) {
    for (const auto& w : l->weights()) total += w.numel(), total_bytes += double(w.nbytes());
    for (const auto& p : l->parameters())
      if (p.requires_grad()) trainable += p.numel(), trainable_bytes += double(p.nbytes());
  }
  out += " Total params: " + with_commas(total) + " (" + readable_bytes(total_bytes) + ")\n";
  out += " Trainable params: " + with_commas(trainable) + " (" + readable_bytes(trainable_bytes) + ")\n";
  out += " Non-trainable params: " + with_commas(total - trainable) + " (" +
         readable_bytes(total_bytes - trainable_bytes) + ")\n";
  os << out;
}

void Model::summary() const { summary(std::cout); }

std::string Model::summary_string(const SummaryOptions& options) const {
  std::ostringstream os;
  summary(os, options);
  return os.str();
}

}  // namespace nabla::keras
