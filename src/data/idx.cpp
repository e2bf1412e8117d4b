// IDX reader. The header is untrusted: dims are multiplied with overflow checks and the declared
// data size is compared with the bytes really present (file size for plain files; the inflated
// stream, read with a cap, for gzip) before the output tensor is allocated, so a header claiming
// 2^31 x 2^31 elements costs nothing.
#include "nabla/data/idx.h"

#include <zlib.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <vector>

#include "nabla/creation.h"

namespace nabla::data {
namespace {

struct IdxHeader {
  int code = 0;
  size_t elem_size = 0;
  DType dtype = kUInt8;
  Shape shape;
  size_t header_bytes = 0;
  size_t data_bytes = 0;
};

struct TypeInfo {
  int code;
  size_t size;
  DType dtype;
  const char* name;
};
// int8 and int16 widen to int32: nabla has no 8/16-bit signed integer dtype.
constexpr TypeInfo kTypes[] = {{0x08, 1, kUInt8, "ubyte"},   {0x09, 1, kInt32, "byte"},
                               {0x0B, 2, kInt32, "short"},   {0x0C, 4, kInt32, "int"},
                               {0x0D, 4, kFloat32, "float"}, {0x0E, 8, kFloat64, "double"}};

uint32_t be32(const uint8_t* p) {
  return (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | uint32_t(p[3]);
}

[[noreturn]] void fail(const std::string& what, const std::string& problem) {
  ::nabla::detail::throw_error("read_idx: ", what, ": ", problem);
}

// Validates the 4-byte magic; returns the number of dims.
int check_magic(const uint8_t* m, size_t got, const std::string& what, IdxHeader& h) {
  if (got < 4) fail(what, "truncated: " + std::to_string(got) + " bytes, too short for an IDX header");
  if (m[0] != 0 || m[1] != 0) {
    char buf[96];
    std::snprintf(buf, sizeof buf, "wrong magic number %02x %02x %02x %02x (expected 00 00 <type> <ndim>)",
                  m[0], m[1], m[2], m[3]);
    fail(what, buf);
  }
  const TypeInfo* t = nullptr;
  for (const auto& ti : kTypes)
    if (ti.code == m[2]) t = &ti;
  if (!t) {
    char buf[96];
    std::snprintf(buf, sizeof buf, "unsupported element type code 0x%02x", m[2]);
    fail(what, buf);
  }
  h.code = t->code;
  h.elem_size = t->size;
  h.dtype = t->dtype;
  int ndim = m[3];
  if (ndim < 1 || ndim > kMaxDims)
    fail(what, "bad number of dimensions " + std::to_string(ndim) + " (expected 1 to " +
                   std::to_string(kMaxDims) + ")");
  return ndim;
}

// Reads the dims and computes the data size with overflow checks.
void parse_dims(const uint8_t* d, int ndim, const std::string& what, IdxHeader& h) {
  uint64_t count = 1;
  bool overflow = false;
  std::string dims;
  for (int i = 0; i < ndim; ++i) {
    uint32_t v = be32(d + 4 * i);
    h.shape.push_back(v);
    dims += (i ? " x " : "") + std::to_string(v);
    overflow |= __builtin_mul_overflow(count, uint64_t(v), &count);
  }
  uint64_t bytes = 0;
  overflow |= __builtin_mul_overflow(count, uint64_t(h.elem_size), &bytes);
  if (overflow || !h.shape.size_fits_int64() || count > uint64_t(INT64_MAX) || bytes > uint64_t(PTRDIFF_MAX))
    fail(what, "header dimensions " + dims + " overflow the addressable size");
  h.header_bytes = 4 + 4 * size_t(ndim);
  h.data_bytes = bytes;
}

[[noreturn]] void size_mismatch(const std::string& what, const IdxHeader& h, size_t have, bool more) {
  std::string shape = h.shape.str();
  if (more)
    fail(what, "header declares " + shape + " (" + std::to_string(h.data_bytes) +
                   " data bytes) but the data is longer (trailing bytes)");
  fail(what, "truncated: header declares " + shape + " (" + std::to_string(h.data_bytes) +
                 " data bytes) but only " + std::to_string(have) + " are present");
}

// Converts big-endian raw elements into the output tensor.
Tensor decode(const uint8_t* src, const IdxHeader& h) {
  Tensor out = empty(h.shape, h.dtype);
  size_t n = h.shape.numel();
  if (h.code == 0x08) {
    if (n) std::memcpy(out.raw_data(), src, n);
    return out;
  }
  if (h.dtype == kInt32) {
    int32_t* o = out.data_ptr<int32_t>();
    for (size_t i = 0; i < n; ++i) {
      if (h.code == 0x09)
        o[i] = static_cast<int8_t>(src[i]);
      else if (h.code == 0x0B)
        o[i] = static_cast<int16_t>((src[2 * i] << 8) | src[2 * i + 1]);
      else
        o[i] = static_cast<int32_t>(be32(src + 4 * i));
    }
  } else if (h.dtype == kFloat32) {
    float* o = out.data_ptr<float>();
    for (size_t i = 0; i < n; ++i) {
      uint32_t u = be32(src + 4 * i);
      std::memcpy(o + i, &u, 4);
    }
  } else {
    double* o = out.data_ptr<double>();
    for (size_t i = 0; i < n; ++i) {
      uint64_t u = (uint64_t(be32(src + 8 * i)) << 32) | be32(src + 8 * i + 4);
      std::memcpy(o + i, &u, 8);
    }
  }
  return out;
}

struct FileCloser {
  void operator()(FILE* f) const { std::fclose(f); }
};
using File = std::unique_ptr<FILE, FileCloser>;

// Streams the inflated bytes of a (possibly multi-member) gzip file.
class GzipStream {
 public:
  GzipStream(FILE* f, const std::string& what) : f_(f), what_(what), in_(1 << 18) {
    std::memset(&zs_, 0, sizeof zs_);
    if (inflateInit2(&zs_, 15 + 16) != Z_OK) fail(what_, "zlib initialisation failed");
  }
  ~GzipStream() { inflateEnd(&zs_); }
  GzipStream(const GzipStream&) = delete;
  GzipStream& operator=(const GzipStream&) = delete;

  /// Fills up to n bytes; returns fewer only at the end of the last gzip member.
  size_t read(uint8_t* dst, size_t n) {
    size_t done = 0;
    while (done < n && !finished_) {
      if (zs_.avail_in == 0 && !refill()) {
        fail(what_, "truncated gzip stream (the file ends before the gzip end-of-stream marker)");
      }
      zs_.next_out = dst + done;
      size_t want = std::min<size_t>(n - done, 1u << 30);
      zs_.avail_out = static_cast<uInt>(want);
      int rc = inflate(&zs_, Z_NO_FLUSH);
      done += want - zs_.avail_out;
      if (rc == Z_STREAM_END) {
        next_member();
      } else if (rc == Z_DATA_ERROR || rc == Z_NEED_DICT) {
        fail(what_, std::string("corrupt gzip stream (") + (zs_.msg ? zs_.msg : "invalid data") + ")");
      } else if (rc == Z_MEM_ERROR) {
        fail(what_, "out of memory while inflating");
      }
    }
    return done;
  }

 private:
  bool refill() {
    size_t got = std::fread(in_.data(), 1, in_.size(), f_);
    if (std::ferror(f_)) fail(what_, std::string("read error: ") + std::strerror(errno));
    zs_.next_in = in_.data();
    zs_.avail_in = static_cast<uInt>(got);
    return got > 0;
  }
  // After a member ends another may follow (gzip allows concatenation); inflate validates its
  // header. Anything not starting like a gzip member is garbage we refuse rather than ignore.
  void next_member() {
    if (zs_.avail_in == 0 && !refill()) {
      finished_ = true;
      return;
    }
    if (zs_.next_in[0] != 0x1f) fail(what_, "trailing garbage after the gzip stream");
    inflateReset(&zs_);
  }

  FILE* f_;
  const std::string& what_;
  std::vector<uint8_t> in_;
  z_stream zs_;
  bool finished_ = false;
};

}  // namespace

Tensor parse_idx(const void* data, size_t size, const std::string& what) {
  const uint8_t* p = static_cast<const uint8_t*>(data);
  IdxHeader h;
  int ndim = check_magic(p, size, what, h);
  if (size < 4 + 4 * size_t(ndim))
    fail(what, "truncated header: " + std::to_string(ndim) + " dims need " + std::to_string(4 + 4 * ndim) +
                   " bytes, the data has " + std::to_string(size));
  parse_dims(p + 4, ndim, what, h);
  size_t have = size - h.header_bytes;
  if (have != h.data_bytes) size_mismatch(what, h, have, have > h.data_bytes);
  return decode(p + h.header_bytes, h);
}

Tensor read_idx(const std::string& path) {
  File f(std::fopen(path.c_str(), "rb"));
  if (!f) fail(path, std::string("cannot open: ") + std::strerror(errno));
  std::fseek(f.get(), 0, SEEK_END);
  long file_size = std::ftell(f.get());
  std::rewind(f.get());
  if (file_size < 0) fail(path, "cannot determine the file size");
  uint8_t magic[2] = {0, 0};
  size_t got = std::fread(magic, 1, 2, f.get());
  std::rewind(f.get());

  if (!(got == 2 && magic[0] == 0x1f && magic[1] == 0x8b)) {  // plain IDX
    uint8_t head[4 + 4 * kMaxDims];
    got = std::fread(head, 1, 4, f.get());
    IdxHeader h;
    int ndim = check_magic(head, got, path, h);
    got = std::fread(head + 4, 1, 4 * size_t(ndim), f.get());
    if (got != 4 * size_t(ndim))
      fail(path, "truncated header: " + std::to_string(ndim) + " dims need " + std::to_string(4 + 4 * ndim) +
                     " bytes, the file has " + std::to_string(file_size));
    parse_dims(head + 4, ndim, path, h);
    size_t have = size_t(file_size) - h.header_bytes;
    if (have != h.data_bytes) size_mismatch(path, h, have, have > h.data_bytes);
    if (h.code == 0x08) {  // read straight into the tensor
      Tensor out = empty(h.shape, kUInt8);
      if (std::fread(out.raw_data(), 1, h.data_bytes, f.get()) != h.data_bytes)
        fail(path, "read error while reading the data");
      return out;
    }
    std::vector<uint8_t> raw(h.data_bytes);
    if (std::fread(raw.data(), 1, raw.size(), f.get()) != raw.size())
      fail(path, "read error while reading the data");
    return decode(raw.data(), h);
  }

  GzipStream gz(f.get(), path);
  uint8_t head[4 + 4 * kMaxDims];
  IdxHeader h;
  int ndim = check_magic(head, gz.read(head, 4), path, h);
  if (gz.read(head + 4, 4 * size_t(ndim)) != 4 * size_t(ndim))
    fail(path, "truncated header: " + std::to_string(ndim) + " dims need " + std::to_string(4 + 4 * ndim) +
                   " bytes of decompressed data");
  parse_dims(head + 4, ndim, path, h);
  // Deflate expands at most ~1032:1, so reserving min(declared, 1032 x file size) never
  // allocates much more than the data that can really be there; the buffer grows past the
  // reservation only as real bytes arrive, up to declared + 1 (to detect trailing data).
  size_t bound = size_t(file_size) * 1032 + (1 << 16);
  std::vector<uint8_t> raw;
  raw.reserve(std::min(h.data_bytes + 1, bound));
  size_t chunk = 1 << 20;
  while (raw.size() <= h.data_bytes) {
    size_t want = std::min(chunk, h.data_bytes + 1 - raw.size());
    size_t old = raw.size();
    raw.resize(old + want);
    size_t n = gz.read(raw.data() + old, want);
    raw.resize(old + n);
    if (n < want) break;
  }
  if (raw.size() != h.data_bytes) size_mismatch(path, h, raw.size(), raw.size() > h.data_bytes);
  return decode(raw.data(), h);
}

}  // namespace nabla::data
