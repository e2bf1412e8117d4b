// Weights in the safetensors format (https://github.com/huggingface/safetensors), the file format
// PyTorch, JAX and Hugging Face use to exchange weights: an 8-byte header length, a JSON header
// (name -> dtype, shape, byte range) and the raw little-endian tensor bytes.
//   nabla::save(model.state_dict(), "model.safetensors", {{"epoch", "3"}});  // atomic write
//   auto sd = nabla::load("model.safetensors");        // nn::OrderedDict<Tensor>, fully validated
//   nabla::load_into(model, "model.safetensors");      // a failed load leaves the model unchanged
// Loads validate the whole header before allocating or touching anything (see
// shared/specs/safetensors-and-npy.md A4): header size, JSON (duplicate keys, unknown keys, depth),
// dtype names, shape x dtype size == byte count, offsets inside the file with no overlap and no
// gap, and no trailing bytes. Sizes are overflow-checked, so a huge declared size is an error, not
// an allocation. Files are written the way the reference writer lays them out (sorted by dtype
// then name, header padded to 8 bytes), so PyTorch's `safetensors` package reads them.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "nabla/nn/module.h"
#include "nabla/nn/ordered_dict.h"
#include "nabla/tensor.h"

namespace nabla {

/// `__metadata__`: free-form string -> string pairs stored in the header.
using Metadata = std::map<std::string, std::string>;

/// Writes `tensors` (any dtype, any layout; copied contiguous) to `path` in safetensors format,
/// atomically (temp file, fsync, rename). Throws nabla::Error for an undefined tensor, an empty
/// name or the reserved name "__metadata__".
void save(const nn::OrderedDict<Tensor>& tensors, const std::string& path, const Metadata& metadata = {});
/// Reads every tensor of a safetensors file, in file order. Throws nabla::Error naming the file
/// and the problem for any malformed file, or for a dtype nabla has no type for (I8, U16, F8_*, ...).
nn::OrderedDict<Tensor> load(const std::string& path);
/// Loads a safetensors file into `module` (Module::load_state_dict semantics: strict by default,
/// shapes must match). The file is fully read and checked first; on any error the module is unchanged.
nn::LoadResult load_into(nn::Module& module, const std::string& path, bool strict = true);

namespace io {

/// One header entry, as declared in the file.
struct SafetensorsEntry {
  std::string name;
  std::string dtype;  // "F32", "BF16", ...
  std::vector<uint64_t> shape;
  uint64_t begin = 0, end = 0;  // relative to the start of the data buffer
};

/// A validated header: entries sorted by offset, and where the data buffer starts in the file.
struct SafetensorsHeader {
  Metadata metadata;
  std::vector<SafetensorsEntry> entries;
  uint64_t data_start = 0;
};

/// Tensors and metadata of a file.
struct SafetensorsFile {
  nn::OrderedDict<Tensor> tensors;
  Metadata metadata;
};

/// Reads and validates only the header (cheap: `nabla info` uses it).
SafetensorsHeader read_safetensors_header(const std::string& path);
/// Validates a header given its JSON text and the total file size (`what` names the file in errors).
SafetensorsHeader parse_safetensors_header(const char* json, size_t json_size, uint64_t file_size,
                                           const std::string& what);
/// Reads tensors and metadata of a file (reads each tensor straight into its storage).
SafetensorsFile load_safetensors(const std::string& path);
/// Parses a whole file already in memory.
SafetensorsFile parse_safetensors(const void* data, size_t size, const std::string& what);
/// The bytes of a safetensors file holding `tensors` and `metadata`.
std::string serialize_safetensors(const nn::OrderedDict<Tensor>& tensors, const Metadata& metadata = {});

/// The safetensors name of a nabla dtype ("F32", "I64", "BOOL", ...).
const char* safetensors_dtype_name(DType t);
/// Bits per element of a safetensors dtype name, or 0 when the name is unknown.
int safetensors_dtype_bits(const std::string& name);

}  // namespace io
}  // namespace nabla
