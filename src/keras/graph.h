// Internal: the node graph of a functional keras::Model (shared by model.cpp and summary.cpp).
#pragma once
#include <memory>
#include <unordered_map>
#include <vector>

#include "nabla/keras/model.h"

namespace nabla::keras {

struct Model::Graph {
  using NodePtr = std::shared_ptr<KerasTensor::Node>;
  std::vector<NodePtr> inputs, outputs;
  std::vector<NodePtr> order;  // every node, inputs first, each node after the nodes it reads
  std::unordered_map<const KerasTensor::Node*, int> consumers;  // how many calls read each node
  bool sequential_like = true;  // a chain: summary leaves out the "Connected to" column
};

}  // namespace nabla::keras
