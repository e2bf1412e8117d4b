// Internal: the pull-based stream behind DataLoader and Pipeline iteration, and
// the one iterator both hand out. Users see only `for (auto& [x, y] :
// loader_or_pipeline)`.
#pragma once
#include <iterator>
#include <memory>
#include <optional>

#include "nabla/data/dataset.h"

namespace nabla::data::detail {

/// A single pass over elements: next() returns the next one, or nullopt at the
/// end. Destroying a stream stops any background threads it owns (no hang, no
/// leak).
struct Stream {
  virtual ~Stream() = default;
  virtual std::optional<Example> next() = 0;
};

/// Input iterator over a Stream; copies share the stream. Compare with
/// std::default_sentinel.
class StreamIterator {
 public:
  using iterator_category = std::input_iterator_tag;
  using value_type = Example;
  using difference_type = std::ptrdiff_t;
  using reference = Example&;

  StreamIterator() = default;
  explicit StreamIterator(std::shared_ptr<Stream> s) : stream_(std::move(s)) { advance(); }
  /// The current element; an lvalue so that `for (auto& [x, y] : ...)` binds to
  /// it.
  Example& operator*() const { return *current_; }
  Example* operator->() const { return &*current_; }
  StreamIterator& operator++() {
    advance();
    return *this;
  }
  void operator++(int) { advance(); }
  bool operator==(std::default_sentinel_t) const { return !current_; }

 private:
  void advance() {
    current_.reset();
    if (!stream_) return;
    // Exceptions leave the iterator at the end and release the stream (joins
    // its workers).
    try {
      current_ = stream_->next();
    } catch (...) {
      stream_.reset();
      throw;
    }
    if (!current_) stream_.reset();
  }
  std::shared_ptr<Stream> stream_;
  // mutable storage behind operator* const: the element belongs to the
  // iteration, not the stream.
  mutable std::optional<Example> current_;
};

}  // namespace nabla::data::detail
