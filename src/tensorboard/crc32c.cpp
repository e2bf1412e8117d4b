// Table-driven CRC-32C. Event files are small (a few KB per step), so the 1 KiB table is fast
// enough and portable; Debian 12 has no CRC32C library to depend on.
#include "tensorboard/crc32c.h"

#include <array>

namespace nabla::tensorboard::detail {
namespace {

constexpr std::array<uint32_t, 256> make_table() {
  std::array<uint32_t, 256> t{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
    t[i] = c;
  }
  return t;
}
constexpr std::array<uint32_t, 256> kTable = make_table();
constexpr uint32_t kMaskDelta = 0xA282EAD8u;

}  // namespace

uint32_t crc32c(std::string_view data) {
  uint32_t crc = 0xFFFFFFFFu;
  for (unsigned char b : data) crc = kTable[(crc ^ b) & 0xFF] ^ (crc >> 8);
  return ~crc;
}

uint32_t masked_crc32c(std::string_view data) {
  uint32_t crc = crc32c(data);
  return ((crc >> 15) | (crc << 17)) + kMaskDelta;
}

uint32_t unmask_crc32c(uint32_t masked) {
  uint32_t r = masked - kMaskDelta;
  return (r >> 17) | (r << 15);
}

}  // namespace nabla::tensorboard::detail
