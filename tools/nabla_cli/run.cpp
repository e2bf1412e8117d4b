// `nabla run DIR --input x.npy [--input ...] [--output y.npy ...]`: the bundle on NumPy inputs.
#include <iomanip>

#include "commands.h"
#include "nabla/creation.h"
#include "nabla/deploy/loaded_model.h"
#include "nabla/io/npy.h"

namespace nabla::cli {

int run(const std::vector<std::string>& args, std::ostream& out) {
  const char* usage = " (usage: nabla run DIR --input x.npy [--input ...] [--output y.npy ...])";
  std::string dir;
  std::vector<std::string> inputs, outputs;
  for (size_t k = 0; k < args.size(); ++k) {
    const std::string& a = args[k];
    if (a == "--input" || a == "--output") {
      NABLA_CHECK(k + 1 < args.size(), a, " needs a file", usage);
      (a == "--input" ? inputs : outputs).push_back(args[++k]);
    } else {
      NABLA_CHECK(dir.empty() && !a.starts_with("--"), "unexpected argument '", a, "'", usage);
      dir = a;
    }
  }
  NABLA_CHECK(!dir.empty(), "missing the bundle directory", usage);
  LoadedModel m = load_model(dir);
  NABLA_CHECK(inputs.size() == m.signature().inputs.size(), dir, " takes ", m.signature().inputs.size(),
              " inputs, got ", inputs.size(), " --input files", usage);
  NABLA_CHECK(outputs.empty() || outputs.size() == m.signature().outputs.size(), dir, " has ",
              m.signature().outputs.size(), " outputs, got ", outputs.size(), " --output files");
  std::vector<Tensor> xs;
  for (const auto& f : inputs) xs.push_back(io::load_npy(f));
  std::vector<Tensor> ys = m(xs);
  for (size_t k = 0; k < ys.size(); ++k) {
    if (!outputs.empty()) {
      io::save_npy(ys[k], outputs[k]);
      out << m.signature().outputs[k].name << ": " << dtype_name(ys[k].dtype()) << ys[k].shape() << " -> "
          << outputs[k] << "\n";
      continue;
    }
    out << m.signature().outputs[k].name << ": " << dtype_name(ys[k].dtype()) << ys[k].shape() << "\n  ";
    std::vector<double> v = ys[k].to(kFloat64).reshape({-1}).to_vector<double>();
    const size_t shown = std::min<size_t>(v.size(), 10);
    out << std::setprecision(6);
    for (size_t i = 0; i < shown; ++i) out << (i ? " " : "") << v[i];
    out << (v.size() > shown ? " ..." : "") << "\n";
  }
  return 0;
}

}  // namespace nabla::cli
