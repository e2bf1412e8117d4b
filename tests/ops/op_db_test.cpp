// Generic tests over every op_db entry: forward vs the PyTorch fixture, gradients vs the
// fixture, the same with non-contiguous inputs, and float64 gradcheck.
#include "support/op_db.h"

#include <gtest/gtest.h>

namespace nabla::testing {
namespace {

Inputs load_inputs(const std::string& name) {
  Inputs in;
  for (int i = 0; fixture_exists(name, "in" + std::to_string(i)); ++i)
    in.push_back(fixture(name, "in" + std::to_string(i)));
  return in;
}

// Same values, non-contiguous layout: every element lives at an even position of a twice-as-big buffer.
Tensor noncontiguous(const Tensor& x) {
  Shape s = x.shape();
  s.push_back(2);
  Tensor big = zeros(s, x.dtype());
  Tensor v = big.select(-1, 0);
  v.copy_(x);
  return v;
}

bool has_grad_fixture(const OpCase& oc) {
  for (int i = 0; fixture_exists(oc.name, "in" + std::to_string(i)); ++i)
    if (fixture_exists(oc.name, "grad" + std::to_string(i))) return true;
  return false;
}

class OpDbTest : public ::testing::TestWithParam<size_t> {
 protected:
  const OpCase& c() const { return op_db()[GetParam()]; }
};
// The same cases, restricted to those where a check applies (so nothing is reported as skipped).
class OpDbNonContiguousTest : public OpDbTest {};
class OpDbGradTest : public OpDbTest {};
class OpDbGradcheckTest : public OpDbTest {};

TEST_P(OpDbTest, ForwardMatchesPyTorch) {
  const OpCase& oc = c();
  Inputs in = load_inputs(oc.name);
  ASSERT_FALSE(in.empty()) << "no fixture inputs for " << oc.name << " (run make fixtures)";
  Outputs out = oc.fn(in);
  for (size_t j = 0; j < out.size(); ++j) {
    std::string f = "out" + std::to_string(j);
    ASSERT_TRUE(fixture_exists(oc.name, f)) << oc.name << ": missing fixture " << f;
    Tensor ref = fixture(oc.name, f);
    EXPECT_TRUE(tensors_close(out[j], ref, oc.opt.rtol, oc.opt.atol)) << oc.name << " output " << j;
    if (is_floating(ref.dtype()))
      EXPECT_TRUE(is_floating(out[j].dtype()))
          << oc.name << ": output " << j << " has dtype " << out[j].dtype();
    else
      EXPECT_EQ(out[j].dtype(), ref.dtype()) << oc.name << " output " << j;
  }
  ASSERT_FALSE(fixture_exists(oc.name, "out" + std::to_string(out.size())))
      << oc.name << ": fewer outputs than the fixture";
}

TEST_P(OpDbNonContiguousTest, NonContiguousInputsGiveSameResult) {
  const OpCase& oc = c();
  Inputs in = load_inputs(oc.name);
  Inputs nc;
  for (const auto& x : in) nc.push_back(noncontiguous(x));
  for (const auto& x : nc) ASSERT_TRUE(x.numel() <= 1 || !x.is_contiguous());
  Outputs out = oc.fn(nc);
  for (size_t j = 0; j < out.size(); ++j)
    EXPECT_TRUE(tensors_close(out[j], fixture(oc.name, "out" + std::to_string(j)), oc.opt.rtol, oc.opt.atol))
        << oc.name << " output " << j;
}

TEST_P(OpDbGradTest, GradientsMatchPyTorch) {
  const OpCase& oc = c();
  Inputs in = load_inputs(oc.name);
  for (size_t i = 0; i < in.size(); ++i)
    if (fixture_exists(oc.name, "grad" + std::to_string(i))) in[i].set_requires_grad(true);
  Outputs out = oc.fn(in);
  std::vector<Tensor> roots, gouts;
  for (size_t j = 0; j < out.size(); ++j) {
    if (!fixture_exists(oc.name, "gout" + std::to_string(j))) continue;
    ASSERT_TRUE(out[j].requires_grad()) << oc.name << ": output " << j << " does not require grad";
    roots.push_back(out[j]);
    gouts.push_back(fixture(oc.name, "gout" + std::to_string(j)));
  }
  autograd::backward(roots, gouts);
  for (size_t i = 0; i < in.size(); ++i) {
    std::string f = "grad" + std::to_string(i);
    if (!fixture_exists(oc.name, f)) continue;
    ASSERT_TRUE(in[i].grad().defined()) << oc.name << ": no gradient for input " << i;
    EXPECT_TRUE(tensors_close(in[i].grad(), fixture(oc.name, f), oc.opt.grad_rtol, oc.opt.grad_atol))
        << oc.name << " gradient of input " << i;
  }
}

TEST_P(OpDbGradcheckTest, GradcheckFloat64) {
  const OpCase& oc = c();
  Inputs in = load_inputs(oc.name);
  for (size_t i = 0; i < in.size(); ++i)
    if (fixture_exists(oc.name, "grad" + std::to_string(i)))
      in[i] = in[i].to(kFloat64).clone().set_requires_grad(true);
  for (auto& x : in)
    if (!x.requires_grad() && is_floating(x.dtype())) x = x.to(kFloat64);
  try {
    autograd::gradcheck([&](const Inputs& x) { return oc.fn(x); }, in);
  } catch (const Error& e) {
    ADD_FAILURE() << oc.name << ": " << e.what();
  }
}

std::string case_name(const ::testing::TestParamInfo<size_t>& info) {
  std::string n = op_db()[info.param].name;
  for (char& ch : n)
    if (!isalnum(static_cast<unsigned char>(ch))) ch = '_';
  return n;
}

template <typename Pred>
std::vector<size_t> cases_where(Pred pred) {
  std::vector<size_t> idx;
  for (size_t i = 0; i < op_db().size(); ++i)
    if (pred(op_db()[i])) idx.push_back(i);
  return idx;
}

INSTANTIATE_TEST_SUITE_P(Ops, OpDbTest, ::testing::ValuesIn(cases_where([](const OpCase&) { return true; })),
                         case_name);
INSTANTIATE_TEST_SUITE_P(Ops, OpDbNonContiguousTest, ::testing::ValuesIn(cases_where([](const OpCase& c) {
                           return c.opt.noncontiguous;
                         })),
                         case_name);
INSTANTIATE_TEST_SUITE_P(Ops, OpDbGradTest, ::testing::ValuesIn(cases_where([](const OpCase& c) {
                           return c.opt.grad && has_grad_fixture(c);
                         })),
                         case_name);
INSTANTIATE_TEST_SUITE_P(Ops, OpDbGradcheckTest, ::testing::ValuesIn(cases_where([](const OpCase& c) {
                           return c.opt.gradcheck && has_grad_fixture(c);
                         })),
                         case_name);

}  // namespace
}  // namespace nabla::testing
