// Device: where a tensor's memory lives. Kernels are registered per (op, device).
#pragma once
#include <cstdint>
#include <ostream>

namespace nabla {

enum class DeviceType : uint8_t { CPU = 0, CUDA = 1 };
constexpr int kNumDeviceTypes = 2;

/// A device type plus an index (the GPU ordinal; always 0 for the CPU).
struct Device {
  DeviceType type = DeviceType::CPU;
  int16_t index = 0;
  constexpr Device() = default;
  constexpr Device(DeviceType t, int16_t i = 0) : type(t), index(i) {}
  constexpr bool operator==(const Device&) const = default;
  bool is_cpu() const { return type == DeviceType::CPU; }
  bool is_cuda() const { return type == DeviceType::CUDA; }
};

constexpr Device kCPU{DeviceType::CPU, 0};
constexpr Device kCUDA{DeviceType::CUDA, 0};

const char* device_type_name(DeviceType t);
std::ostream& operator<<(std::ostream& os, const Device& d);

namespace cuda {
/// True when nabla was built with CUDA and a GPU is visible. False in CPU-only builds.
bool is_available();
}  // namespace cuda

}  // namespace nabla
