// Printing matches PyTorch 1.13's repr. Each expected string was printed by /usr/bin/python3 with
// torch 1.13 for the Python expression in the comment above it; nabla spells dtypes without the
// "torch." prefix (dtype=float64), which torch_repr() accounts for.
#include <gtest/gtest.h>

#include <cmath>
#include <sstream>

#include "nabla/nabla.h"

namespace nabla {
namespace {

std::string torch_repr(std::string s) {
  for (size_t p; (p = s.find("dtype=torch.")) != std::string::npos;) s.erase(p + 6, 6);
  return s;
}

// Python: v7(n) = [((i*37) % 101 - 50) / 7.0 for i in range(n)]
std::vector<double> v7(int n) {
  std::vector<double> v;
  for (int i = 0; i < n; ++i) v.push_back(((i * 37) % 101 - 50) / 7.0);
  return v;
}
std::vector<float> as_float(const std::vector<double>& v) { return {v.begin(), v.end()}; }

TEST(Print, SmallMatrixAndScalars) {
  // torch.tensor([[1., 2.], [3., 4.]])
  EXPECT_EQ(to_string(tensor({{1.f, 2.f}, {3.f, 4.f}})), "tensor([[1., 2.],\n        [3., 4.]])");
  // torch.tensor(3.5) / torch.tensor(3) / torch.tensor(True)
  EXPECT_EQ(to_string(full({}, 3.5)), "tensor(3.5000)");
  EXPECT_EQ(to_string(full({}, 3, kInt64)), "tensor(3)");
  EXPECT_EQ(to_string(full({}, true, kBool)), "tensor(True)");
  std::ostringstream os;
  os << tensor({1.f, 2.f});
  EXPECT_EQ(os.str(), "tensor([1., 2.])");
}

TEST(Print, Empty) {
  // torch.zeros(0, 3); torch.zeros(0, 3, dtype=torch.int64); torch.zeros(0);
  // torch.zeros(0, dtype=torch.bool); torch.zeros(2, 0, 3)
  EXPECT_EQ(to_string(zeros({0, 3})), "tensor([], size=(0, 3))");
  EXPECT_EQ(to_string(zeros({0, 3}, kInt64)), torch_repr("tensor([], size=(0, 3), dtype=torch.int64)"));
  EXPECT_EQ(to_string(zeros({0})), "tensor([])");
  EXPECT_EQ(to_string(zeros({0}, kBool)), torch_repr("tensor([], dtype=torch.bool)"));
  EXPECT_EQ(to_string(zeros({2, 0, 3})), "tensor([], size=(2, 0, 3))");
}

TEST(Print, DtypesAndIntegers) {
  // torch.tensor([True, False])
  EXPECT_EQ(to_string(tensor({true, false})), "tensor([ True, False])");
  // torch.tensor([1, 2, 3], dtype=torch.int32)
  EXPECT_EQ(to_string(tensor({1, 2, 3}, kInt32)), torch_repr("tensor([1, 2, 3], dtype=torch.int32)"));
  // torch.tensor([0, 7, 255], dtype=torch.uint8)
  EXPECT_EQ(to_string(tensor({0, 7, 255}, kUInt8)), torch_repr("tensor([  0,   7, 255], dtype=torch.uint8)"));
  // torch.tensor([-5, 10, 300])
  EXPECT_EQ(to_string(tensor({-5, 10, 300})), "tensor([ -5,  10, 300])");
  // torch.tensor([0.1, 0.25], dtype=torch.float64)
  EXPECT_EQ(to_string(tensor({0.1, 0.25}, kFloat64)),
            torch_repr("tensor([0.1000, 0.2500], dtype=torch.float64)"));
  // torch.tensor([1.5, 2.25], dtype=torch.float16)
  EXPECT_EQ(to_string(tensor({1.5f, 2.25f}).to(kFloat16)),
            torch_repr("tensor([1.5000, 2.2500], dtype=torch.float16)"));
}

TEST(Print, FloatNotation) {
  // torch.tensor([1e-5, 1., float('nan'), float('inf'), -float('inf')])
  EXPECT_EQ(to_string(tensor({1e-5f, 1.f, NAN, INFINITY, -INFINITY})),
            "tensor([1.0000e-05, 1.0000e+00,        nan,        inf,       -inf])");
  // torch.tensor([1e9, 2.]); torch.tensor([1e-5, 2e-5]); torch.zeros(3)
  EXPECT_EQ(to_string(tensor({1e9f, 2.f})), "tensor([1.0000e+09, 2.0000e+00])");
  EXPECT_EQ(to_string(tensor({1e-5f, 2e-5f})), "tensor([1.0000e-05, 2.0000e-05])");
  EXPECT_EQ(to_string(zeros({3})), "tensor([0., 0., 0.])");
  // torch.tensor([-1., 0., 250.5])
  EXPECT_EQ(to_string(tensor({-1.f, 0.f, 250.5f})), "tensor([ -1.0000,   0.0000, 250.5000])");
  // torch.tensor(v7(12)).reshape(3, 4)
  EXPECT_EQ(to_string(tensor(as_float(v7(12)), Shape{3, 4})),
            "tensor([[-7.1429, -1.8571,  3.4286, -5.7143],\n"
            "        [-0.4286,  4.8571, -4.2857,  1.0000],\n"
            "        [ 6.2857, -2.8571,  2.4286, -6.7143]])");
}

TEST(Print, LineWrapping) {
  // torch.tensor(v7(30))
  EXPECT_EQ(to_string(tensor(as_float(v7(30)))),
            "tensor([-7.1429, -1.8571,  3.4286, -5.7143, -0.4286,  4.8571, -4.2857,  1.0000,\n"
            "         6.2857, -2.8571,  2.4286, -6.7143, -1.4286,  3.8571, -5.2857,  0.0000,\n"
            "         5.2857, -3.8571,  1.4286,  6.7143, -2.4286,  2.8571, -6.2857, -1.0000,\n"
            "         4.2857, -4.8571,  0.4286,  5.7143, -3.4286,  1.8571])");
  // torch.tensor(v7(23), dtype=torch.float64).requires_grad_()  (suffixes move to a new line past
  // 80 columns; a case where torch's longer "torch.float64" would not change the layout)
  EXPECT_EQ(to_string(tensor(v7(23), kFloat64).set_requires_grad()),
            torch_repr("tensor([-7.1429, -1.8571,  3.4286, -5.7143, -0.4286,  4.8571, -4.2857,  1.0000,\n"
                       "         6.2857, -2.8571,  2.4286, -6.7143, -1.4286,  3.8571, -5.2857,  0.0000,\n"
                       "         5.2857, -3.8571,  1.4286,  6.7143, -2.4286,  2.8571, -6.2857],\n"
                       "       dtype=torch.float64, requires_grad=True)"));
}

TEST(Print, ThreeDims) {
  // torch.tensor([((i*37) % 101 - 50) for i in range(24)]).reshape(2, 3, 4)
  std::vector<int64_t> v;
  for (int i = 0; i < 24; ++i) v.push_back((i * 37) % 101 - 50);
  EXPECT_EQ(to_string(tensor(v, Shape{2, 3, 4})),
            "tensor([[[-50, -13,  24, -40],\n"
            "         [ -3,  34, -30,   7],\n"
            "         [ 44, -20,  17, -47]],\n"
            "\n"
            "        [[-10,  27, -37,   0],\n"
            "         [ 37, -27,  10,  47],\n"
            "         [-17,  20, -44,  -7]]])");
}

TEST(Print, Summarised) {
  // torch.arange(2000.).reshape(40, 50)
  EXPECT_EQ(to_string(arange(0, 2000, 1).to(kFloat32).reshape({40, 50})),
            "tensor([[0.0000e+00, 1.0000e+00, 2.0000e+00,  ..., 4.7000e+01, 4.8000e+01,\n"
            "         4.9000e+01],\n"
            "        [5.0000e+01, 5.1000e+01, 5.2000e+01,  ..., 9.7000e+01, 9.8000e+01,\n"
            "         9.9000e+01],\n"
            "        [1.0000e+02, 1.0100e+02, 1.0200e+02,  ..., 1.4700e+02, 1.4800e+02,\n"
            "         1.4900e+02],\n"
            "        ...,\n"
            "        [1.8500e+03, 1.8510e+03, 1.8520e+03,  ..., 1.8970e+03, 1.8980e+03,\n"
            "         1.8990e+03],\n"
            "        [1.9000e+03, 1.9010e+03, 1.9020e+03,  ..., 1.9470e+03, 1.9480e+03,\n"
            "         1.9490e+03],\n"
            "        [1.9500e+03, 1.9510e+03, 1.9520e+03,  ..., 1.9970e+03, 1.9980e+03,\n"
            "         1.9990e+03]])");
  // torch.arange(2000)
  EXPECT_EQ(to_string(arange(0, 2000, 1)), "tensor([   0,    1,    2,  ..., 1997, 1998, 1999])");
  // torch.tensor([float((i*37) % 101 - 50) for i in range(2000)]).reshape(10, 10, 20): first block
  // and the '...' between blocks (the full string is 48 lines).
  std::vector<float> v;
  for (int i = 0; i < 2000; ++i) v.push_back(static_cast<float>((i * 37) % 101 - 50));
  std::string s = to_string(tensor(v, Shape{10, 10, 20}));
  const std::string head =
      "tensor([[[-50., -13.,  24.,  ..., -27.,  10.,  47.],\n"
      "         [-17.,  20., -44.,  ...,   6.,  43., -21.],\n"
      "         [ 16., -48., -11.,  ...,  39., -25.,  12.],\n"
      "         ...,\n"
      "         [-21.,  16., -48.,  ...,   2.,  39., -25.],\n"
      "         [ 12.,  49., -15.,  ...,  35., -29.,   8.],\n"
      "         [ 45., -19.,  18.,  ..., -33.,   4.,  41.]],\n"
      "\n"
      "        [[-23.,  14., -50.,  ...,   0.,  37., -27.],\n";
  EXPECT_EQ(s.substr(0, head.size()), head);
  EXPECT_NE(
      s.find("  [ -2.,  35., -29.,  ...,  21., -43.,  -6.]],\n\n        ...,\n\n        [[ 38., -26.,  11.,"),
      std::string::npos);
  const std::string tail = "[-15.,  22., -42.,  ...,   8.,  45., -19.]]])";
  EXPECT_EQ(s.substr(s.size() - tail.size()), tail);
}

TEST(Print, Autograd) {
  // torch.ones(2, 3).requires_grad_()
  Tensor x = ones({2, 3}).set_requires_grad();
  EXPECT_EQ(to_string(x), "tensor([[1., 1., 1.],\n        [1., 1., 1.]], requires_grad=True)");
  // nabla names the node by its op (torch: grad_fn=<IndexSelectBackward0>)
  EXPECT_EQ(to_string(index_select(x, 1, tensor({0}))),
            "tensor([[1.],\n        [1.]], grad_fn=<index_select>)");
  EXPECT_EQ(to_string(x.detach()), "tensor([[1., 1., 1.],\n        [1., 1., 1.]])");
}

}  // namespace
}  // namespace nabla
