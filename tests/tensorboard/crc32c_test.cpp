// CRC-32C, masking and TFRecord framing against the published vectors (RFC 3720 B.4) and records
// that TensorFlow itself wrote (from TensorBoard's tf_record.rs), see specs/tensorboard-events.md.
#include "tensorboard/crc32c.h"

#include <gtest/gtest.h>

#include <cstring>

#include "tensorboard/event.pb.h"
#include "tensorboard/event_file_writer.h"

namespace nabla::tensorboard::detail {
namespace {

std::string hex(const std::string& s) {
  std::string out;
  char buf[4];
  for (unsigned char c : s) std::snprintf(buf, sizeof buf, "%02x", c), out += buf;
  return out;
}
std::string bytes(std::initializer_list<int> v) {
  std::string s;
  for (int b : v) s.push_back(char(b));
  return s;
}
std::string le64(uint64_t v) {
  std::string s(8, 0);
  for (int i = 0; i < 8; ++i) s[i] = char(v >> (8 * i));
  return s;
}

TEST(TensorboardCrc32c, CheckValueAndRfc3720Vectors) {
  EXPECT_EQ(crc32c("123456789"), 0xE3069283u);
  EXPECT_EQ(crc32c(""), 0u);
  std::string zeros(32, '\0'), ones(32, '\xff'), inc(32, 0), dec(32, 0);
  for (int i = 0; i < 32; ++i) inc[i] = char(i), dec[i] = char(31 - i);
  EXPECT_EQ(crc32c(zeros), 0x8A9136AAu);
  EXPECT_EQ(crc32c(ones), 0x62A8AB43u);
  EXPECT_EQ(crc32c(inc), 0x46DD794Eu);
  EXPECT_EQ(crc32c(dec), 0x113FDB5Cu);
}

TEST(TensorboardCrc32c, MaskedVectorsWrittenByTensorFlow) {
  EXPECT_EQ(masked_crc32c(le64(24)), 0x224B7FA3u);
  EXPECT_EQ(masked_crc32c(le64(50)), 0xEC561924u);
  EXPECT_EQ(masked_crc32c(bytes({0x1A, 0x11}) + "CRC test, one two"), 0x5794D08Au);
  for (uint32_t x : {0u, 1u, 0xDEADBEEFu, 0xFFFFFFFFu, 0xA282EAD8u}) {
    uint32_t rot = ((x >> 15) | (x << 17)) + 0xA282EAD8u;
    EXPECT_EQ(unmask_crc32c(rot), x);
  }
}

double double_from(std::initializer_list<int> le) {
  std::string s = bytes(le);
  double d;
  std::memcpy(&d, s.data(), 8);
  return d;
}

// tf.summary.scalar("accuracy", 0.99, step=77): both records of the file TensorFlow wrote, rebuilt
// with nabla's protos and framing, byte for byte.
TEST(TensorboardCrc32c, ReproducesTensorFlowRecords) {
  ::tensorboard::Event first;
  first.set_wall_time(double_from({0x00, 0x00, 0x80, 0x38, 0x99, 0xd6, 0xd7, 0x41}));
  first.set_file_version("brain.Event:2");
  EXPECT_EQ(hex(frame_record(first.SerializeAsString())),
            "1800000000000000a37f4b22"
            "0900008038"
            "99d6d7411a0d627261696e2e4576656e743a32"
            "124b36ab");

  ::tensorboard::Event e;
  e.set_wall_time(double_from({0xc4, 0x05, 0xb7, 0x3d, 0x99, 0xd6, 0xd7, 0x41}));
  e.set_step(77);
  auto* v = e.mutable_summary()->add_value();
  v->set_tag("accuracy");
  auto* t = v->mutable_tensor();
  t->set_dtype(::tensorboard::DT_FLOAT);
  t->mutable_tensor_shape();
  float acc = 0.99f;
  t->set_tensor_content(std::string(reinterpret_cast<const char*>(&acc), 4));
  v->mutable_metadata()->mutable_plugin_data()->set_plugin_name("scalars");
  EXPECT_EQ(hex(frame_record(e.SerializeAsString())),
            "320000000000000024"
            "1956ec"
            "09c405b73d99d6d741104d2a250a230a086163637572616379420a080112002204a4707d3f"
            "4a0b0a090a077363616c617273"
            "a55b6433");
}

// The spec's worked example (section 6): a simple_value scalar, 42 bytes framed.
TEST(TensorboardCrc32c, SimpleValueScalarRecord) {
  ::tensorboard::Event e;
  e.set_wall_time(1700000000.5);
  e.set_step(1);
  auto* v = e.mutable_summary()->add_value();
  v->set_tag("loss");
  v->set_simple_value(0.25f);
  EXPECT_EQ(hex(frame_record(e.SerializeAsString())),
            "1a00000000000000129bd82d"
            "09000020"
            "40fc54d941100"
            "12a0d0a0b0a046c6f7373150000803e"
            "e4ae850a");
}

}  // namespace
}  // namespace nabla::tensorboard::detail
