// graph.json: attributes round-trip exactly (every field of the one Attrs struct all ops share), and
// each class of malformed graph is refused with a message naming the file and the problem.
#include "deploy/graph_json.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <nlohmann/json.hpp>
#include <random>

#include "../examples/common/seed_models.h"
#include "data/temp_dir.h"
#include "deploy/bundle.h"
#include "nabla/creation.h"
#include "nabla/deploy.h"
#include "nabla/io/atomic_file.h"

using namespace nabla;
using json = nlohmann::json;

TEST(GraphJson, AttrsRoundTripExactly) {
  std::mt19937_64 rng(7);
  const double specials[] = {0.0, -0.0, 1e-310, 0.1, -2.5e300, INFINITY, -INFINITY};
  for (int t = 0; t < 500; ++t) {
    ops::Attrs a;
    std::vector<int64_t> shape(rng() % (kMaxDims + 1));
    for (auto& d : shape) d = static_cast<int64_t>(rng() % 7) - 1;
    a.shape = Shape(shape);
    for (auto& v : a.i) v = rng() % 3 == 0 ? static_cast<int64_t>(rng()) : 0;
    for (auto& f : a.f)
      f = rng() % 2 ? specials[rng() % 7] : std::ldexp(static_cast<double>(rng() >> 11), -int(rng() % 80));
    a.dtype = static_cast<DType>(rng() % 8);
    ops::Attrs b = deploy::attrs_from_json_text(deploy::attrs_to_json_text(a), "test");
    EXPECT_TRUE(a.shape == b.shape && a.dtype == b.dtype) << deploy::attrs_to_json_text(a);
    for (int k = 0; k < 16; ++k) EXPECT_EQ(a.i[k], b.i[k]);
    for (int k = 0; k < 2; ++k) EXPECT_EQ(std::memcmp(&a.f[k], &b.f[k], sizeof(double)), 0) << a.f[k];
    EXPECT_TRUE(a == b);
    EXPECT_EQ(std::signbit(a.f[0]), std::signbit(b.f[0]));
  }
  ops::Attrs nan;
  nan.f[1] = std::nan("");
  EXPECT_TRUE(std::isnan(deploy::attrs_from_json_text(deploy::attrs_to_json_text(nan), "t").f[1]));
  EXPECT_EQ(deploy::attrs_to_json_text(ops::Attrs{}), "{}");
}

TEST(GraphJson, EveryOpNameResolves) {
  // A node names its op by registry name; every op's name maps back to the same id and has an arity.
  for (int k = 0; k < ops::kNumOps; ++k) {
    auto id = static_cast<ops::OpId>(k);
    EXPECT_EQ(graph::op_from_name(ops::op_name(id)), id);
    EXPECT_NE(deploy::op_arity(id).second, -2) << ops::op_name(id);  // -2: op_arity doesn't know it
  }
}

class GraphJsonBad : public ::testing::Test {
 protected:
  void SetUp() override {
    manual_seed(3);
    SimpleNet net;
    export_model(net, {randn({2, 784})}, dir / "b");
    bundle = io::read_file(dir / "b/bundle.json");
    graph = json::parse(io::read_file(dir / "b/graph.json"));
    weights = io::read_file(dir / "b/weights.safetensors");
  }
  // The error message of loading the bundle with this graph JSON text (empty: it loaded).
  std::string load_error(const std::string& graph_text) {
    try {
      deploy::load_bundle(bundle, graph_text, io::parse_safetensors(weights.data(), weights.size(), "w"),
                          "B");
    } catch (const Error& e) {
      return e.what();
    }
    return "";
  }
  std::string load_error(const json& g) { return load_error(g.dump()); }
  void expect_error(const json& g, const std::string& needle) {
    std::string e = load_error(g);
    EXPECT_NE(e.find(needle), std::string::npos) << "got: " << e;
    EXPECT_NE(e.find("B/graph.json"), std::string::npos) << "got: " << e;
  }

  data_test::TempDir dir;
  std::string bundle, weights;
  json graph;
};

TEST_F(GraphJsonBad, ValidLoads) { EXPECT_EQ(load_error(graph), ""); }

TEST_F(GraphJsonBad, EachMalformedClass) {
  EXPECT_NE(load_error(std::string("{\"format\": ")).find("bad JSON"), std::string::npos);
  json g = graph;
  g["nodes"][0]["op"] = "frobnicate";
  expect_error(g, "unknown op \"frobnicate\"");
  g = graph;
  g["nodes"][0]["inputs"][0] = 999;
  expect_error(g, "does not exist");
  g = graph;  // node 0 reads the output of the last node: a cycle
  g["nodes"][0]["inputs"][0] = g["outputs"][0];
  expect_error(g, "before it is produced");
  g = graph;
  g["values"][1]["dtype"] = "float64";
  expect_error(g, "but its weights are");
  g = graph;
  g["values"][1]["shape"][0] = 65;
  expect_error(g, "but its weights are");
  g = graph;  // a node output declared with the wrong shape
  g["values"][g["outputs"][0].get<int>()]["shape"][1] = 11;
  expect_error(g, "but the op computes");
  g = graph;
  g["nodes"][0]["inputs"] = json::array({0});
  expect_error(g, "has 1 inputs, expected 2 to 3");
  g = graph;
  g["nodes"][0]["op"] = "adam_step";
  expect_error(g, "training op");
  g = graph;
  g["nodes"][0]["color"] = "red";
  expect_error(g, "unknown key \"color\"");
  g = graph;
  g["values"][0]["shape"][1] = int64_t{1} << 40;
  expect_error(g, "too large");
  g = graph;
  g["version"] = 2;
  expect_error(g, "unsupported graph version");
  g = graph;
  g["values"][1]["weight"] = "nope";
  expect_error(g, "does not have");
  g = graph;
  g["nodes"][0]["epilogue"] = json::array({json{{"op", "sum"}}});
  expect_error(g, "non-unary epilogue");
  json deep = 1;
  for (int k = 0; k < 50; ++k) deep = json::array({deep});
  g = graph;
  g["nodes"][0]["attrs"] = json{{"i", deep}};
  expect_error(g, "nests deeper");
}
