// CRC-32C (Castagnoli) and the masked form TFRecord files store (the same mask as LevelDB), see
// shared/specs/tensorboard-events.md section 2.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace nabla::tensorboard::detail {

/// CRC-32C of `data` (reflected polynomial 0x82F63B78, init and final xor 0xFFFFFFFF).
uint32_t crc32c(std::string_view data);
/// The checksum TFRecord stores: rotate right by 15, then add 0xA282EAD8.
uint32_t masked_crc32c(std::string_view data);
/// Undoes the mask (for readers and tests).
uint32_t unmask_crc32c(uint32_t masked);

}  // namespace nabla::tensorboard::detail
