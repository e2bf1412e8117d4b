#include "support/fixture_suite.h"

#include <sys/stat.h>

#include <algorithm>

#include "nabla/io/npy.h"

namespace nabla::testing {
namespace {

std::string path_of(const std::string& dir, const std::string& case_name, const std::string& file) {
  return std::string(NABLA_FIXTURE_DIR) + "/" + dir + "/" + case_name + "/" + file + ".npy";
}

// Same values, non-contiguous layout (every element at an even position of a bigger buffer).
Tensor noncontiguous(const Tensor& x) {
  Shape s = x.shape();
  s.push_back(2);
  Tensor v = zeros(s, x.dtype()).select(-1, 0);
  v.copy_(x);
  return v;
}

}  // namespace

bool fixture_in_exists(const std::string& dir, const std::string& case_name, const std::string& file) {
  struct stat st;
  return ::stat(path_of(dir, case_name, file).c_str(), &st) == 0;
}

Tensor fixture_in(const std::string& dir, const std::string& case_name, const std::string& file) {
  return io::load_npy(path_of(dir, case_name, file));
}

void check_fixture_case(const std::string& dir, const OpCase& c,
                        const std::vector<size_t>& gradcheck_outputs) {
  auto has = [&](const std::string& f) { return fixture_in_exists(dir, c.name, f); };
  auto get = [&](const std::string& f) { return fixture_in(dir, c.name, f); };
  Inputs in;
  for (int i = 0; has("in" + std::to_string(i)); ++i) in.push_back(get("in" + std::to_string(i)));
  ASSERT_FALSE(in.empty()) << "no fixture inputs for " << dir << "/" << c.name;

  // Forward, contiguous and not.
  for (bool nc : {false, true}) {
    if (nc && !c.opt.noncontiguous) continue;
    Inputs x = in;
    if (nc)
      for (auto& t : x) t = noncontiguous(t);
    Outputs out = c.fn(x);
    for (size_t j = 0; j < out.size(); ++j) {
      std::string f = "out" + std::to_string(j);
      ASSERT_TRUE(has(f)) << c.name << ": missing fixture " << f;
      EXPECT_TRUE(tensors_close(out[j], get(f), c.opt.rtol, c.opt.atol))
          << c.name << " output " << j << (nc ? " (non-contiguous inputs)" : "");
    }
    ASSERT_FALSE(has("out" + std::to_string(out.size()))) << c.name << ": fewer outputs than the fixture";
  }

  std::vector<size_t> diff;
  for (size_t i = 0; i < in.size(); ++i)
    if (has("grad" + std::to_string(i))) diff.push_back(i);
  if (diff.empty() || !c.opt.grad) return;

  // Gradients against PyTorch.
  {
    Inputs x;
    for (auto& t : in) x.push_back(t.clone());
    for (size_t i : diff) x[i].set_requires_grad(true);
    Outputs out = c.fn(x);
    std::vector<Tensor> roots, gouts;
    for (size_t j = 0; j < out.size(); ++j) {
      if (!has("gout" + std::to_string(j))) continue;
      ASSERT_TRUE(out[j].requires_grad()) << c.name << ": output " << j << " does not require grad";
      roots.push_back(out[j]);
      gouts.push_back(get("gout" + std::to_string(j)));
    }
    autograd::backward(roots, gouts);
    for (size_t i : diff) {
      ASSERT_TRUE(x[i].grad().defined()) << c.name << ": no gradient for input " << i;
      EXPECT_TRUE(
          tensors_close(x[i].grad(), get("grad" + std::to_string(i)), c.opt.grad_rtol, c.opt.grad_atol))
          << c.name << " gradient of input " << i;
    }
  }

  // Finite differences in float64, over the outputs PyTorch differentiates.
  if (!c.opt.gradcheck) return;
  Inputs x;
  for (auto& t : in) x.push_back(is_floating(t.dtype()) ? t.to(kFloat64).clone() : t);
  for (size_t i : diff) x[i].set_requires_grad(true);
  try {
    autograd::gradcheck(
        [&](const Inputs& v) {
          Outputs out = c.fn(v), kept;
          for (size_t j = 0; j < out.size(); ++j)
            if (has("gout" + std::to_string(j)) &&
                (gradcheck_outputs.empty() ||
                 std::find(gradcheck_outputs.begin(), gradcheck_outputs.end(), j) != gradcheck_outputs.end()))
              kept.push_back(out[j]);
          return kept;
        },
        x);
  } catch (const Error& e) {
    ADD_FAILURE() << c.name << ": " << e.what();
  }
}

}  // namespace nabla::testing
