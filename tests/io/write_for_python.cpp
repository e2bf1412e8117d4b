// Writes a safetensors file for tests/io/check_nabla_written.py (the CTest io.safetensors_to_torch):
// a nabla model's weights with an input and nabla's output for it, and one "pattern.<dtype>" tensor
// per dtype holding arange(12).reshape(3, 4) (bool: i % 3 == 0), which Python recomputes itself.
#include <iostream>

#include "nabla/io/safetensors.h"
#include "nabla/nabla.h"
#include "nabla/nn.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: write_for_python OUT.safetensors\n";
    return 2;
  }
  using namespace nabla;
  manual_seed(7);
  nn::Sequential model(nn::Linear(4, 8), nn::Tanh(), nn::Linear(8, 3));
  auto sd = model->state_dict();
  Tensor x = randn({5, 4});
  sd.insert("x", x);
  sd.insert("y", model->forward(x).detach());
  auto base = arange(12).reshape({3, 4});
  for (DType t : {kUInt8, kInt32, kInt64, kFloat16, kBFloat16, kFloat32, kFloat64})
    sd.insert(std::string("pattern.") + dtype_name(t), base.to(t));
  std::vector<int64_t> third;
  for (int i = 0; i < 12; ++i) third.push_back(i % 3 == 0);
  sd.insert("pattern.bool", tensor(third).reshape({3, 4}).to(kBool));
  save(sd, argv[1], {{"framework", "nabla"}});
  return 0;
}
