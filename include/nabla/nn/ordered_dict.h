// OrderedDict: string keys in insertion order with O(1) lookup. Holds a module's parameters,
// buffers and children, and is the type of state_dict().
//   nabla::nn::OrderedDict<nabla::Tensor> sd = model.state_dict();
//   for (auto& [name, t] : sd) std::cout << name << " " << t.shape() << "\n";
//   sd.at("fc1.weight");
#pragma once
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "nabla/error.h"

namespace nabla::nn {

template <typename V>
class OrderedDict {
 public:
  using Item = std::pair<std::string, V>;
  using iterator = typename std::vector<Item>::iterator;
  using const_iterator = typename std::vector<Item>::const_iterator;

  OrderedDict() = default;
  OrderedDict(std::initializer_list<Item> items) {
    for (const auto& it : items) insert(it.first, it.second);
  }

  size_t size() const { return items_.size(); }
  bool empty() const { return items_.empty(); }
  bool contains(const std::string& key) const { return index_.count(key) != 0; }
  /// Pointer to the value, or null when absent.
  V* find(const std::string& key) {
    auto it = index_.find(key);
    return it == index_.end() ? nullptr : &items_[it->second].second;
  }
  const V* find(const std::string& key) const { return const_cast<OrderedDict*>(this)->find(key); }
  /// The value for `key`; throws nabla::Error when absent.
  V& at(const std::string& key) {
    V* v = find(key);
    NABLA_CHECK(v != nullptr, "OrderedDict: no key '", key, "'");
    return *v;
  }
  const V& at(const std::string& key) const { return const_cast<OrderedDict*>(this)->at(key); }
  V& operator[](const std::string& key) { return at(key); }
  const V& operator[](const std::string& key) const { return at(key); }
  /// The i-th item in insertion order.
  Item& item(size_t i) { return items_.at(i); }
  const Item& item(size_t i) const { return items_.at(i); }

  /// Appends a new key; throws nabla::Error if it exists.
  V& insert(std::string key, V value) {
    NABLA_CHECK(!contains(key), "OrderedDict: key '", key, "' already exists");
    index_.emplace(key, items_.size());
    items_.emplace_back(std::move(key), std::move(value));
    return items_.back().second;
  }
  /// Replaces the value of an existing key (keeping its position) or appends a new one.
  V& insert_or_assign(std::string key, V value) {
    if (V* v = find(key)) return *v = std::move(value);
    return insert(std::move(key), std::move(value));
  }
  /// Removes `key` if present; returns whether it was.
  bool erase(const std::string& key) {
    auto it = index_.find(key);
    if (it == index_.end()) return false;
    items_.erase(items_.begin() + it->second);
    reindex();
    return true;
  }
  void clear() {
    items_.clear();
    index_.clear();
  }

  std::vector<std::string> keys() const {
    std::vector<std::string> k;
    k.reserve(items_.size());
    for (const auto& it : items_) k.push_back(it.first);
    return k;
  }
  std::vector<V> values() const {
    std::vector<V> v;
    v.reserve(items_.size());
    for (const auto& it : items_) v.push_back(it.second);
    return v;
  }
  const std::vector<Item>& items() const { return items_; }

  iterator begin() { return items_.begin(); }
  iterator end() { return items_.end(); }
  const_iterator begin() const { return items_.begin(); }
  const_iterator end() const { return items_.end(); }

 private:
  void reindex() {
    index_.clear();
    for (size_t i = 0; i < items_.size(); ++i) index_.emplace(items_[i].first, i);
  }
  std::vector<Item> items_;
  std::unordered_map<std::string, size_t> index_;
};

}  // namespace nabla::nn
