// Writes the fuzzers' seed corpus: small valid files of each kind, made by the current writers.
//   fuzz_make_corpus OUT_DIR   -> OUT_DIR/{safetensors,checkpoint,npy,bundle}/...
// Bundles are framed for fuzz_bundle: [u32 n][bundle.json][u32 n][graph.json][weights.safetensors].
#include <filesystem>
#include <iostream>

#include "fuzz_model.h"
#include "nabla/deploy.h"
#include "nabla/io/atomic_file.h"
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
  for (const char* d : {"safetensors", "checkpoint", "npy", "bundle"}) fs::create_directories(out / d);
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
  // Small bundles (symbolic and fixed batch, MLP and CNN shapes) in fuzz_bundle's framing.
  auto frame = [&](const std::string& dir, const std::string& name) {
    std::string bytes;
    for (const char* f : {"bundle.json", "graph.json"}) {
      std::string text = io::read_file(dir + "/" + f);
      uint32_t n = static_cast<uint32_t>(text.size());
      bytes.append(reinterpret_cast<const char*>(&n), 4);
      bytes += text;
    }
    bytes += io::read_file(dir + "/weights.safetensors");
    io::write_file_atomic((out / "bundle" / name).string(), bytes);
    fs::remove_all(dir);
  };
  const std::string tmp = (out / "bundle" / "tmp").string();
  nn::Sequential mlp{nn::Linear(4, 3), nn::ReLU(), nn::Linear(3, 2), nn::Softmax(1)};
  export_model(*mlp, {randn({2, 4})}, tmp);
  frame(tmp, "mlp.bin");
  export_model(*mlp, {randn({2, 4})}, tmp, {.symbolic_batch = false});
  frame(tmp, "mlp_fixed.bin");
  nn::Sequential cnn{nn::Conv2d({.in = 1, .out = 2, .kernel = 3, .padding = 1}), nn::ReLU(), nn::MaxPool2d(2),
                     nn::Flatten(), nn::Linear(2 * 3 * 3, 3)};
  export_model(*cnn, {randn({2, 1, 6, 6})}, tmp);
  frame(tmp, "cnn.bin");
  std::cout << "seed corpus written to " << out << "\n";
  return 0;
}
