// safetensors reading and writing. The header is validated first (safetensors_header.cpp); only
// then are tensors allocated, each exactly the size the validated header gives it, and read straight
// from the file into its storage (no whole-file buffer). Writing streams the same layout as the
// reference writer into an AtomicFileWriter.
#include "nabla/io/safetensors.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>
#include <functional>
#include <nlohmann/json.hpp>

#include "nabla/creation.h"
#include "nabla/io/atomic_file.h"

namespace nabla::io {

int safetensors_dtype_rank(const std::string& name);  // safetensors_header.cpp

namespace {

static_assert(std::endian::native == std::endian::little, "safetensors data is little-endian");
constexpr uint64_t kMaxHeader = 100'000'000;  // the reference MAX_HEADER_SIZE

[[noreturn]] void bad(const std::string& what, const std::string& msg) {
  detail::throw_error("safetensors: ", what, ": ", msg);
}

// Header length from the first 8 bytes, checked against the file size.
uint64_t header_length(const unsigned char* p, uint64_t file_size, const std::string& what) {
  if (file_size < 8)
    bad(what, "the file has " + std::to_string(file_size) +
                  " bytes, fewer than the 8-byte header length (truncated)");
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | p[i];
  if (n > kMaxHeader)
    bad(what, "the header length " + std::to_string(n) + " exceeds the limit of " +
                  std::to_string(kMaxHeader) + " bytes");
  if (8 + n > file_size)
    bad(what, "the header length " + std::to_string(n) + " runs past the end of the " +
                  std::to_string(file_size) + "-byte file (truncated)");
  return n;
}

struct Planned {
  const SafetensorsEntry* entry;
  DType dtype;
  Shape shape;
};

// nabla dtypes and shapes for every entry, before anything is allocated.
std::vector<Planned> plan(const SafetensorsHeader& h, const std::string& what) {
  std::vector<Planned> out;
  for (const auto& e : h.entries) {
    static const std::pair<const char*, DType> map[] = {
        {"BOOL", kBool},   {"U8", kUInt8},      {"I32", kInt32},   {"I64", kInt64},
        {"F16", kFloat16}, {"BF16", kBFloat16}, {"F32", kFloat32}, {"F64", kFloat64}};
    auto it = std::find_if(std::begin(map), std::end(map), [&](const auto& m) { return e.dtype == m.first; });
    if (it == std::end(map))
      bad(what, "tensor \"" + e.name + "\" has dtype " + e.dtype +
                    ", which nabla has no type for (it reads BOOL, U8, I32, I64, F16, BF16, F32, F64)");
    if (e.shape.size() > static_cast<size_t>(kMaxDims))
      bad(what, "tensor \"" + e.name + "\" has " + std::to_string(e.shape.size()) +
                    " dimensions; nabla supports " + std::to_string(kMaxDims));
    Shape s;
    for (uint64_t d : e.shape) {
      if (d > static_cast<uint64_t>(INT64_MAX))
        bad(what, "tensor \"" + e.name + "\" has a dimension above 2^63");
      s.push_back(static_cast<int64_t>(d));
    }
    if (!s.size_fits_int64())
      bad(what, "tensor \"" + e.name + "\" has a shape whose size overflows 64 bits");
    out.push_back({&e, it->second, s});
  }
  return out;
}

// A bool byte other than 0 or 1 is not a valid C++ bool: refuse it rather than load it.
void check_bools(const Tensor& t, const std::string& name, const std::string& what) {
  if (t.dtype() != kBool) return;
  const auto* p = static_cast<const unsigned char*>(t.raw_data());
  for (size_t i = 0; i < t.nbytes(); ++i)
    if (p[i] > 1) bad(what, "tensor \"" + name + "\" is BOOL but holds the byte " + std::to_string(p[i]));
}

// Reads the tensors of a validated header through `read(dst, n, data offset)`.
SafetensorsFile materialize(SafetensorsHeader h, const std::string& what,
                            const std::function<void(void*, size_t, uint64_t)>& read) {
  std::vector<Planned> planned = plan(h, what);
  SafetensorsFile f;
  f.metadata = std::move(h.metadata);
  for (const auto& p : planned) {
    Tensor t = empty(p.shape, p.dtype);
    read(t.raw_data(), p.entry->end - p.entry->begin, p.entry->begin);
    check_bools(t, p.entry->name, what);
    f.tensors.insert(p.entry->name, std::move(t));
  }
  return f;
}

class Fd {
 public:
  Fd(const std::string& path) : fd_(::open(path.c_str(), O_RDONLY | O_CLOEXEC)) {
    NABLA_CHECK(fd_ >= 0, "safetensors: cannot open ", path, ": ", std::strerror(errno));
  }
  ~Fd() { ::close(fd_); }
  uint64_t size(const std::string& what) const {
    struct stat st;
    if (::fstat(fd_, &st) != 0 || !S_ISREG(st.st_mode)) bad(what, "not a regular file");
    return static_cast<uint64_t>(st.st_size);
  }
  void pread_all(void* dst, size_t n, uint64_t off, const std::string& what) const {
    auto* p = static_cast<char*>(dst);
    while (n > 0) {
      ssize_t r = ::pread(fd_, p, n, static_cast<off_t>(off));
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) bad(what, r == 0 ? "the file shrank while it was read" : std::strerror(errno));
      p += r;
      n -= static_cast<size_t>(r);
      off += static_cast<uint64_t>(r);
    }
  }

 private:
  int fd_;
};

SafetensorsHeader header_from_fd(const Fd& fd, const std::string& path) {
  uint64_t size = fd.size(path);
  unsigned char prefix[8] = {};
  if (size >= 8) fd.pread_all(prefix, 8, 0, path);
  uint64_t n = header_length(prefix, size, path);
  std::string text(n, '\0');  // n <= file size and <= 100 MB: checked above
  fd.pread_all(text.data(), n, 8, path);
  return parse_safetensors_header(text.data(), n, size, path);
}

std::string json_string(const std::string& s, const std::string& what) {
  try {
    return nlohmann::json(s).dump();
  } catch (const nlohmann::json::exception&) {
    detail::throw_error("safetensors: cannot save ", what, ": \"", s, "\" is not valid UTF-8");
  }
}

// Writes the reference layout to `sink`: tensors sorted by dtype (largest alignment first) then by
// name, offsets back to back, compact JSON padded with spaces to a multiple of 8 bytes.
void write_safetensors(const nn::OrderedDict<Tensor>& tensors, const Metadata& metadata,
                       const std::string& what, const std::function<void(const void*, size_t)>& sink) {
  struct Item {
    const std::string* name;
    Tensor data;
    int rank;
  };
  std::vector<Item> items;
  for (const auto& [name, t] : tensors) {
    NABLA_CHECK(!name.empty(), "safetensors: cannot save ", what, ": a tensor has an empty name");
    NABLA_CHECK(name != "__metadata__", "safetensors: cannot save ", what,
                ": \"__metadata__\" is reserved and cannot name a tensor");
    NABLA_CHECK(t.defined(), "safetensors: cannot save ", what, ": tensor \"", name, "\" is undefined");
    Tensor c = t.detach().cpu().contiguous();
    items.push_back({&name, c, safetensors_dtype_rank(safetensors_dtype_name(c.dtype()))});
  }
  std::stable_sort(items.begin(), items.end(), [](const Item& a, const Item& b) {
    return a.rank != b.rank ? a.rank > b.rank : *a.name < *b.name;
  });
  std::string header = "{";
  if (!metadata.empty()) {
    header += "\"__metadata__\":{";
    bool first = true;
    for (const auto& [k, v] : metadata) {
      if (!first) header += ',';
      header += json_string(k, what);
      header += ':';
      header += json_string(v, what);
      first = false;
    }
    header += "}";
  }
  uint64_t offset = 0;
  for (const auto& it : items) {
    if (header.size() > 1) header += ",";
    header += json_string(*it.name, what) + ":{\"dtype\":\"" + safetensors_dtype_name(it.data.dtype()) +
              "\",\"shape\":[";
    for (int d = 0; d < it.data.dim(); ++d) {
      if (d) header += ',';
      header += std::to_string(it.data.size(d));
    }
    uint64_t end = offset + it.data.nbytes();
    header += "],\"data_offsets\":[" + std::to_string(offset) + "," + std::to_string(end) + "]}";
    offset = end;
  }
  header += "}";
  header.append((8 - header.size() % 8) % 8, ' ');
  NABLA_CHECK(header.size() <= kMaxHeader, "safetensors: cannot save ", what, ": the header would be ",
              header.size(), " bytes, above the format's limit of ", kMaxHeader);
  unsigned char n[8];
  for (int i = 0; i < 8; ++i)
    n[i] = static_cast<unsigned char>(static_cast<uint64_t>(header.size()) >> (8 * i));
  sink(n, 8);
  sink(header.data(), header.size());
  for (const auto& it : items)
    if (it.data.nbytes()) sink(it.data.raw_data(), it.data.nbytes());
}

}  // namespace

SafetensorsHeader read_safetensors_header(const std::string& path) {
  Fd fd(path);
  return header_from_fd(fd, path);
}

SafetensorsFile load_safetensors(const std::string& path) {
  Fd fd(path);
  SafetensorsHeader h = header_from_fd(fd, path);
  const uint64_t start = h.data_start;
  return materialize(std::move(h), path,
                     [&](void* dst, size_t n, uint64_t off) { fd.pread_all(dst, n, start + off, path); });
}

SafetensorsFile parse_safetensors(const void* data, size_t size, const std::string& what) {
  const auto* bytes = static_cast<const unsigned char*>(data);
  uint64_t n = header_length(bytes, size, what);
  SafetensorsHeader h = parse_safetensors_header(reinterpret_cast<const char*>(bytes) + 8, n, size, what);
  const uint64_t start = h.data_start;
  return materialize(std::move(h), what, [&](void* dst, size_t len, uint64_t off) {
    std::memcpy(dst, bytes + start + off, len);
  });
}

std::string serialize_safetensors(const nn::OrderedDict<Tensor>& tensors, const Metadata& metadata) {
  std::string out;
  write_safetensors(tensors, metadata, "<memory>",
                    [&](const void* p, size_t n) { out.append(static_cast<const char*>(p), n); });
  return out;
}

}  // namespace nabla::io

namespace nabla {

void save(const nn::OrderedDict<Tensor>& tensors, const std::string& path, const Metadata& metadata) {
  io::AtomicFileWriter w(path);
  io::write_safetensors(tensors, metadata, path, [&](const void* p, size_t n) { w.write(p, n); });
  w.commit();
}

nn::OrderedDict<Tensor> load(const std::string& path) { return io::load_safetensors(path).tensors; }

}  // namespace nabla
