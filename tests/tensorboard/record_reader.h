// Test helper: reads a TFRecord file back, checking both masked CRCs of every record, the way
// TensorBoard's reader does. Whatever follows the last whole record is returned as `tail`.
#pragma once
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "nabla/io/atomic_file.h"
#include "tensorboard/crc32c.h"
#include "tensorboard/event.pb.h"

namespace nabla::tensorboard::testing {

struct Records {
  std::vector<std::string> data;  // payloads of the whole, valid records
  std::string tail;               // bytes after them: a record cut short, or garbage
  bool corrupt = false;           // a whole record whose CRC did not match
};

inline uint64_t read_le(const std::string& s, size_t at, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v |= uint64_t(uint8_t(s[at + i])) << (8 * i);
  return v;
}

inline Records read_records(const std::string& path) {
  std::string bytes = nabla::io::read_file(path);
  Records r;
  size_t pos = 0;
  while (pos + 12 <= bytes.size()) {
    uint64_t len = read_le(bytes, pos, 8);
    if (uint32_t(read_le(bytes, pos + 8, 4)) !=
        detail::masked_crc32c(std::string_view(bytes).substr(pos, 8))) {
      r.corrupt = true;
      break;
    }
    if (pos + 16 + len > bytes.size()) break;  // cut short: "not written yet"
    std::string_view data = std::string_view(bytes).substr(pos + 12, len);
    if (uint32_t(read_le(bytes, pos + 12 + len, 4)) != detail::masked_crc32c(data)) {
      r.corrupt = true;
      break;
    }
    r.data.emplace_back(data);
    pos += 16 + len;
  }
  r.tail = bytes.substr(pos);
  return r;
}

inline std::vector<::tensorboard::Event> read_events(const std::string& path) {
  Records r = read_records(path);
  std::vector<::tensorboard::Event> events(r.data.size());
  for (size_t i = 0; i < r.data.size(); ++i) events[i].ParseFromString(r.data[i]);
  return events;
}

}  // namespace nabla::tensorboard::testing
