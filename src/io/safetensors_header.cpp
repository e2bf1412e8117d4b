// safetensors header validation (shared/specs/safetensors-and-npy.md A4). Everything a reader
// could trip over is checked here, before a single tensor byte is allocated: the JSON itself
// (nlohmann-json, plus a parse callback that rejects duplicate keys and deep nesting, which the
// library would otherwise accept), the schema of every entry, sizes with overflow checks, and that
// the byte ranges tile the data buffer exactly (no overlap, no gap, no trailing bytes).
#include <algorithm>
#include <cstring>
#include <nlohmann/json.hpp>
#include <set>

#include "nabla/io/safetensors.h"

namespace nabla::io {
namespace {

using json = nlohmann::json;

constexpr size_t kMaxEntries = 1u << 20;  // a 100 MB header could otherwise declare millions
constexpr size_t kMaxRank = 64;           // far above nabla's 8; keeps the arrays small

struct DTypeInfo {
  const char* name;
  int bits;
};
// Reference enum order (increasing alignment); the writer sorts by it.
constexpr DTypeInfo kDTypes[] = {
    {"BOOL", 8},    {"F4", 4},      {"F6_E2M3", 6}, {"F6_E3M2", 6},     {"U8", 8},          {"I8", 8},
    {"F8_E5M2", 8}, {"F8_E4M3", 8}, {"F8_E8M0", 8}, {"F8_E4M3FNUZ", 8}, {"F8_E5M2FNUZ", 8}, {"I16", 16},
    {"U16", 16},    {"F16", 16},    {"BF16", 16},   {"I32", 32},        {"U32", 32},        {"F32", 32},
    {"C64", 64},    {"F64", 64},    {"I64", 64},    {"U64", 64},
};

[[noreturn]] void bad(const std::string& what, const std::string& msg) {
  detail::throw_error("safetensors: ", what, ": ", msg);
}

// Tracks open containers during parsing: duplicate keys are found while their object is open,
// and nesting deeper than the schema needs (object > entry > array) is refused at once.
struct Guard {
  std::string what;
  std::vector<std::set<std::string>> objects;
  std::vector<bool> is_object;
  std::vector<size_t> array_length;  // per open container (used for arrays)
  size_t top_level_keys = 0;

  // Arrays are shapes or offsets: a long one is refused while parsing, before the JSON tree
  // holds millions of values for a header that is only megabytes long.
  void count_array_element() {
    if (!is_object.empty() && !is_object.back() && ++array_length.back() > kMaxRank)
      bad(what, "an array in the JSON header has more than " + std::to_string(kMaxRank) + " elements");
  }

  bool operator()(int /*depth*/, json::parse_event_t event, json& parsed) {
    switch (event) {
      case json::parse_event_t::object_start:
      case json::parse_event_t::array_start:
        if (is_object.size() >= 3)
          bad(what, "the JSON header nests deeper than the format allows (max 3 levels)");
        count_array_element();
        is_object.push_back(event == json::parse_event_t::object_start);
        array_length.push_back(0);
        if (is_object.back()) objects.emplace_back();
        break;
      case json::parse_event_t::object_end:
      case json::parse_event_t::array_end:
        if (is_object.back()) objects.pop_back();
        is_object.pop_back();
        array_length.pop_back();
        break;
      case json::parse_event_t::key: {
        const auto& k = parsed.get_ref<const std::string&>();
        if (!objects.back().insert(k).second) bad(what, "duplicate key \"" + k + "\" in the JSON header");
        if (objects.size() == 1 && ++top_level_keys > kMaxEntries)
          bad(what, "the header declares more than " + std::to_string(kMaxEntries) + " tensors");
        break;
      }
      case json::parse_event_t::value:
        count_array_element();
        break;
    }
    return true;
  }
};

uint64_t as_u64(const json& v, const std::string& what, const std::string& where) {
  if (!v.is_number_unsigned())
    bad(what, where + " must be a non-negative integer below 2^64, got " + v.dump());
  return v.get<uint64_t>();
}

SafetensorsEntry parse_entry(const std::string& name, const json& v, const std::string& what) {
  const std::string where = "tensor \"" + name + "\"";
  if (!v.is_object()) bad(what, where + ": expected an object {dtype, shape, data_offsets}, got " + v.dump());
  SafetensorsEntry e;
  e.name = name;
  int seen = 0;
  for (const auto& [key, val] : v.items()) {
    if (key == "dtype") {
      if (!val.is_string()) bad(what, where + ": dtype must be a string, got " + val.dump());
      e.dtype = val.get<std::string>();
      if (safetensors_dtype_bits(e.dtype) == 0) bad(what, where + ": unknown dtype \"" + e.dtype + "\"");
      seen |= 1;
    } else if (key == "shape") {
      if (!val.is_array()) bad(what, where + ": shape must be an array, got " + val.dump());
      if (val.size() > kMaxRank)
        bad(what, where + ": shape has " + std::to_string(val.size()) + " dimensions");
      for (const auto& d : val) e.shape.push_back(as_u64(d, what, where + ": each shape entry"));
      seen |= 2;
    } else if (key == "data_offsets") {
      if (!val.is_array() || val.size() != 2)
        bad(what, where + ": data_offsets must be [BEGIN, END], got " + val.dump());
      e.begin = as_u64(val[0], what, where + ": data_offsets[0]");
      e.end = as_u64(val[1], what, where + ": data_offsets[1]");
      seen |= 4;
    } else {
      bad(what, where + ": unexpected key \"" + key + "\" (expected dtype, shape, data_offsets)");
    }
  }
  if (seen != 7) bad(what, where + ": needs the keys dtype, shape and data_offsets");
  if (e.end < e.begin)
    bad(what, where + ": data_offsets [" + std::to_string(e.begin) + ", " + std::to_string(e.end) +
                  "] end before they begin");
  // Byte count with overflow checks: a huge declared shape is an error, never an allocation.
  uint64_t elems = 1;
  for (uint64_t d : e.shape)
    if (__builtin_mul_overflow(elems, d, &elems)) bad(what, where + ": the shape's element count overflows");
  uint64_t bits;
  if (__builtin_mul_overflow(elems, static_cast<uint64_t>(safetensors_dtype_bits(e.dtype)), &bits))
    bad(what, where + ": the byte size overflows");
  if (bits % 8 != 0) bad(what, where + ": " + e.dtype + " data is not a whole number of bytes");
  if (e.end - e.begin != bits / 8)
    bad(what, where + ": dtype " + e.dtype + " and its shape need " + std::to_string(bits / 8) +
                  " bytes but data_offsets cover " + std::to_string(e.end - e.begin));
  return e;
}

}  // namespace

int safetensors_dtype_bits(const std::string& name) {
  for (const auto& d : kDTypes)
    if (name == d.name) return d.bits;
  return 0;
}

const char* safetensors_dtype_name(DType t) {
  switch (t) {
    case kBool:
      return "BOOL";
    case kUInt8:
      return "U8";
    case kInt32:
      return "I32";
    case kInt64:
      return "I64";
    case kFloat16:
      return "F16";
    case kBFloat16:
      return "BF16";
    case kFloat32:
      return "F32";
    case kFloat64:
      return "F64";
  }
  return "?";
}

int safetensors_dtype_rank(const std::string& name) {
  for (size_t i = 0; i < std::size(kDTypes); ++i)
    if (name == kDTypes[i].name) return static_cast<int>(i);
  return -1;
}

SafetensorsHeader parse_safetensors_header(const char* text, size_t size, uint64_t file_size,
                                           const std::string& what) {
  // nlohmann-json stops at a NUL byte as if the input ended; JSON never contains a raw NUL, so
  // refuse it here rather than accept "{}\0<anything>".
  if (const void* nul = std::memchr(text, 0, size))
    bad(what, "the header is not valid JSON: a NUL byte at header offset " +
                  std::to_string(static_cast<const char*>(nul) - text));
  Guard guard{what, {}, {}, {}, 0};
  json root;
  try {
    root = json::parse(text, text + size, std::ref(guard), /*allow_exceptions=*/true);
  } catch (const json::exception& e) {
    bad(what, std::string("the header is not valid JSON: ") + e.what());
  }
  if (!root.is_object()) bad(what, "the JSON header must be an object, got " + std::string(root.type_name()));

  SafetensorsHeader h;
  h.data_start = 8 + size;
  for (const auto& [key, val] : root.items()) {
    if (key == "__metadata__") {
      if (!val.is_object()) bad(what, "__metadata__ must be an object of strings, got " + val.dump());
      for (const auto& [mk, mv] : val.items()) {
        if (!mv.is_string()) bad(what, "__metadata__[\"" + mk + "\"] must be a string, got " + mv.dump());
        h.metadata.emplace(mk, mv.get<std::string>());
      }
      continue;
    }
    h.entries.push_back(parse_entry(key, val, what));
  }
  // Sorted by offsets, the ranges must tile [0, data size) exactly: no overlap (many tensors on one
  // range would multiply the memory a small file costs) and no hole.
  std::stable_sort(h.entries.begin(), h.entries.end(), [](const auto& a, const auto& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  uint64_t expect = 0;
  for (const auto& e : h.entries) {
    if (e.begin != expect)
      bad(what, "tensor \"" + e.name + "\" starts at data offset " + std::to_string(e.begin) +
                    " but the previous " + "tensor ends at " + std::to_string(expect) +
                    (e.begin < expect ? " (overlapping tensors)" : " (a gap between tensors)"));
    expect = e.end;
  }
  uint64_t have = file_size >= h.data_start ? file_size - h.data_start : 0;
  if (h.data_start > file_size || have != expect)
    bad(what, "the header declares " + std::to_string(expect) + " data bytes but the file has " +
                  std::to_string(have) +
                  (have < expect ? " (truncated file)" : " (trailing bytes after the data)"));
  return h;
}

}  // namespace nabla::io
