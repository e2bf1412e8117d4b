// Writes the fuzzers' seed corpus: small valid files of each kind, made by the current writers.
//   fuzz_make_corpus OUT_DIR   -> OUT_DIR/{safetensors,checkpoint,npy}/...
#include <filesystem>
#include <iostream>

#include "fuzz_model.h"
#include "nabla/io/npy.h"
#include "nabla/io/safetensors.h"
#include "nabla/nabla.h"

namespace fs = std::filesystem;
using namespace nabla;

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: fuzz_make_corpus OUT_DIR\n";
    return 2;
  }
  fs::path out = argv[1];
  for (const char* d : {"safetensors", "checkpoint", "npy"}) fs::create_directories(out / d);
  auto st = [&](const std::string& name) { return (out / "safetensors" / name).string(); };
  save({}, st("empty.safetensors"));
  save({}, st("metadata.safetensors"), {{"format", "pt"}});
  nn::OrderedDict<Tensor> all;
  for (DType t : {kBool, kUInt8, kInt32, kInt64, kFloat16, kBFloat16, kFloat32, kFloat64})
    all.insert(dtype_name(t), arange(6).reshape({2, 3}).to(t));
  all.insert("scalar", full({}, 1.5));
  all.insert("empty", zeros({0, 2}));
  save(all, st("dtypes.safetensors"), {{"k", "v"}});

  FuzzModel m;
  auto ck = [&](const std::string& name) { return (out / "checkpoint" / name).string(); };
  save_checkpoint(ck("fresh.safetensors"), m.state());
  for (int s = 0; s < 3; ++s) {
    m.opt->zero_grad();
    m.model->forward(randn({5, 3})).sum().backward();
    m.opt->step();
    m.sched->step();
  }
  nabla::TrainingState state = m.state();
  state.epoch = 3;
  state.user = {{"note", "seed"}};
  save_checkpoint(ck("trained.safetensors"), state);
  save_checkpoint(ck("model_only.safetensors"), {.model = &*m.model});

  auto np = [&](const std::string& name) { return (out / "npy" / name).string(); };
  for (DType t : {kBool, kUInt8, kInt32, kInt64, kFloat16, kFloat32, kFloat64})
    io::save_npy(arange(6).reshape({2, 3}).to(t), np(std::string(dtype_name(t)) + ".npy"));
  io::save_npy(full({}, 2.0), np("scalar.npy"));
  io::save_npy(zeros({0, 3}), np("empty.npy"));
  std::cout << "seed corpus written to " << out << "\n";
  return 0;
}
