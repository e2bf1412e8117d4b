// .npy reader/writer following shared/specs/safetensors-and-npy.md part B: the header is parsed
// with a tiny grammar (never evaluated), sizes are overflow-checked before any allocation.
#include "nabla/io/npy.h"

#include <cstring>

#include "nabla/creation.h"
#include "nabla/io/atomic_file.h"

namespace nabla::io {
namespace {

constexpr size_t kMaxHeader = 10000;  // NumPy's _MAX_HEADER_SIZE

struct Header {
  std::string descr;
  bool fortran = false;
  Shape shape;
  int seen = 0;  // bit per key
};

class HeaderParser {
 public:
  HeaderParser(const std::string& s, const std::string& what) : s_(s), what_(what) {}

  Header parse() {
    Header h;
    skip_ws();
    expect('{');
    for (;;) {
      skip_ws();
      if (peek() == '}') break;
      std::string key = quoted();
      skip_ws();
      expect(':');
      skip_ws();
      if (key == "descr") {
        h.descr = quoted();
        mark(h, 1, key);
      } else if (key == "fortran_order") {
        h.fortran = boolean();
        mark(h, 2, key);
      } else if (key == "shape") {
        h.shape = tuple();
        mark(h, 4, key);
      } else {
        fail("unexpected key '" + key + "'");
      }
      skip_ws();
      if (peek() == ',') {
        ++p_;
        continue;
      }
      skip_ws();
      if (peek() != '}') fail("expected ',' or '}'");
    }
    ++p_;
    if (h.seen != 7) fail("the header must have the keys 'descr', 'fortran_order' and 'shape'");
    return h;
  }

 private:
  [[noreturn]] void fail(const std::string& why) const {
    detail::throw_error(what_, ": invalid .npy header (", why, " at character ", p_, ")");
  }
  char peek() const { return p_ < s_.size() ? s_[p_] : '\0'; }
  void skip_ws() {
    while (p_ < s_.size() && (s_[p_] == ' ' || s_[p_] == '\t' || s_[p_] == '\n')) ++p_;
  }
  void expect(char c) {
    if (peek() != c) fail(std::string("expected '") + c + "'");
    ++p_;
  }
  void mark(Header& h, int bit, const std::string& key) {
    if (h.seen & bit) fail("duplicate key '" + key + "'");
    h.seen |= bit;
  }
  std::string quoted() {
    char q = peek();
    if (q != '\'' && q != '"') fail("expected a quoted string");
    size_t end = s_.find(q, p_ + 1);
    if (end == std::string::npos) fail("unterminated string");
    std::string r = s_.substr(p_ + 1, end - p_ - 1);
    p_ = end + 1;
    return r;
  }
  bool boolean() {
    if (s_.compare(p_, 4, "True") == 0) return p_ += 4, true;
    if (s_.compare(p_, 5, "False") == 0) return p_ += 5, false;
    fail("expected True or False");
  }
  Shape tuple() {
    expect('(');
    Shape sh;
    for (;;) {
      skip_ws();
      if (peek() == ')') break;
      if (peek() < '0' || peek() > '9') fail("expected a non-negative integer in the shape");
      uint64_t v = 0;
      while (peek() >= '0' && peek() <= '9') {
        if (v > (uint64_t(1) << 50)) fail("shape entry too large");
        v = v * 10 + static_cast<uint64_t>(peek() - '0');
        ++p_;
      }
      if (sh.size() == kMaxDims) fail("more than 8 dimensions");
      sh.push_back(static_cast<int64_t>(v));
      skip_ws();
      if (peek() == ',')
        ++p_;
      else if (peek() != ')')
        fail("expected ',' or ')' in the shape");
    }
    ++p_;
    return sh;
  }
  const std::string& s_;
  const std::string& what_;
  size_t p_ = 0;
};

DType descr_dtype(const std::string& d, bool& swap, const std::string& what) {
  NABLA_CHECK(d.size() >= 2, what, ": unsupported .npy dtype '", d, "'");
  char order = d[0];
  std::string kind = d.substr(1);
  NABLA_CHECK(kind != "O", what, ": .npy files with Python objects (dtype '|O', a pickle) are refused");
  NABLA_CHECK(order == '<' || order == '>' || order == '|' || order == '=', what,
              ": bad byte order in dtype '", d, "'");
  swap = order == '>';
  if (kind == "b1") return kBool;
  if (kind == "u1") return kUInt8;
  if (kind == "i4") return kInt32;
  if (kind == "i8") return kInt64;
  if (kind == "f2") return kFloat16;
  if (kind == "f4") return kFloat32;
  if (kind == "f8") return kFloat64;
  detail::throw_error(what, ": unsupported .npy dtype '", d, "' (nabla reads b1, u1, i4, i8, f2, f4, f8)");
}

const char* dtype_descr(DType t) {
  switch (t) {
    case kBool:
      return "|b1";
    case kUInt8:
      return "|u1";
    case kInt32:
      return "<i4";
    case kInt64:
      return "<i8";
    case kFloat16:
      return "<f2";
    case kFloat32:
      return "<f4";
    case kFloat64:
      return "<f8";
    default:
      detail::throw_error("save_npy: dtype ", t,
                          " has no NumPy equivalent; convert it first (e.g. .to(kFloat32))");
  }
}

}  // namespace

Tensor parse_npy(const void* data, size_t size, const std::string& what) {
  const auto* b = static_cast<const unsigned char*>(data);
  NABLA_CHECK(size >= 10 && std::memcmp(b, "\x93NUMPY", 6) == 0, what,
              ": not a .npy file (bad magic number)");
  int major = b[6], minor = b[7];
  NABLA_CHECK((major >= 1 && major <= 3) && minor == 0, what, ": unsupported .npy version ", major, ".",
              minor);
  size_t len_size = major == 1 ? 2 : 4;
  NABLA_CHECK(size >= 8 + len_size, what, ": truncated .npy header");
  size_t hlen = b[8] | (size_t(b[9]) << 8);
  if (len_size == 4) hlen |= (size_t(b[10]) << 16) | (size_t(b[11]) << 24);
  NABLA_CHECK(hlen <= kMaxHeader, what, ": .npy header of ", hlen, " bytes exceeds the limit of ",
              kMaxHeader);
  size_t data_off = 8 + len_size + hlen;
  NABLA_CHECK(data_off <= size, what, ": truncated .npy header (", size, " bytes, header ends at ", data_off,
              ")");
  std::string text(reinterpret_cast<const char*>(b) + 8 + len_size, hlen);
  NABLA_CHECK(!text.empty() && text.back() == '\n', what,
              ": invalid .npy header (it must end with a newline)");
  Header h = HeaderParser(text, what).parse();
  bool swap = false;
  DType dt = descr_dtype(h.descr, swap, what);
  NABLA_CHECK(h.shape.size_fits_int64(), what, ": shape ", h.shape, " overflows");
  size_t count = 1;
  for (int64_t s : h.shape)
    NABLA_CHECK(!__builtin_mul_overflow(count, static_cast<size_t>(s), &count), what, ": shape ", h.shape,
                " overflows");
  size_t nbytes;
  NABLA_CHECK(!__builtin_mul_overflow(count, dtype_size(dt), &nbytes), what, ": shape ", h.shape,
              " overflows");
  NABLA_CHECK(nbytes <= size - data_off, what, ": truncated .npy data (shape ", h.shape, " needs ", nbytes,
              " bytes, the file has ", size - data_off, ")");
  Shape shape = h.shape;
  if (h.fortran) std::reverse(shape.begin(), shape.end());
  Tensor t = from_buffer(b + data_off, shape, dt);
  if (swap && dtype_size(dt) > 1) {
    auto* p = static_cast<unsigned char*>(t.raw_data());
    size_t es = dtype_size(dt);
    for (size_t i = 0; i < count; ++i) std::reverse(p + i * es, p + (i + 1) * es);
  }
  if (h.fortran && shape.size() > 1) {
    Shape rev;
    for (int i = shape.size() - 1; i >= 0; --i) rev.push_back(i);
    t = t.permute(rev).contiguous();
  }
  return t;
}

Tensor load_npy(const std::string& path) {
  std::string bytes = read_file(path);
  return parse_npy(bytes.data(), bytes.size(), path);
}

void save_npy(const Tensor& t, const std::string& path) {
  Tensor c = t.detach().contiguous();
  std::string header =
      std::string("{'descr': '") + dtype_descr(c.dtype()) + "', 'fortran_order': False, 'shape': (";
  for (int i = 0; i < c.dim(); ++i)
    header += std::to_string(c.shape()[i]) + (c.dim() == 1 || i + 1 < c.dim() ? ", " : "");
  if (c.dim() == 1) header.pop_back();  // "(3,)" like NumPy
  header += "), }";
  size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header += '\n';
  std::string out = "\x93NUMPY";
  out += '\x01';
  out += '\x00';
  out += static_cast<char>(header.size() & 0xff);
  out += static_cast<char>(header.size() >> 8);
  out += header;
  out.append(static_cast<const char*>(c.raw_data()), c.nbytes());
  write_file_atomic(path, out);
}

}  // namespace nabla::io
