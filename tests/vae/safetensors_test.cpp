// The safetensors reader refuses every malformed header with an error that names the file and
// the tensor, and reads well-formed files exactly (F32, F16 including subnormals, BF16).
#include "vae/safetensors.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "core/error.h"
#include "safetensors_writer.h"

namespace dw::vae {
namespace {

using test::assemble;
using test::TensorSpec;

// The InputError text for `bytes`, or "" when it was accepted.
std::string rejection(const std::vector<std::uint8_t>& bytes) {
  try {
    SafetensorsFile::from_bytes(bytes, "bad.safetensors");
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

std::vector<std::uint8_t> zeros(std::size_t n) {
  return std::vector<std::uint8_t>(n, 0);
}

struct Malformed {
  const char* name;
  std::vector<std::uint8_t> bytes;
  const char* expected;  // a fragment the message must contain
};

std::vector<Malformed> malformed_cases() {
  const std::string ok_entry = R"("w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]})";
  std::vector<Malformed> cases = {
      {"TooShort", {1, 2, 3}, "too short"},
      {"HeaderPastEnd", assemble("{}", {}), ""},  // placeholder replaced below
      {"HeaderOverLimit", {}, "exceeds the limit"},
      {"NotJson", assemble("{not json", zeros(8)), "not valid JSON"},
      {"NotAnObject", assemble("[1, 2]", zeros(8)), "not a JSON object"},
      {"EntryNotObject", assemble(R"({"w": 3})", zeros(8)), "tensor 'w': entry is not an object"},
      {"MissingDtype", assemble(R"({"w":{"shape":[2],"data_offsets":[0,8]}})", zeros(8)),
       "tensor 'w': missing or non-string 'dtype'"},
      {"UnknownDtype",
       assemble(R"({"w":{"dtype":"F17","shape":[2],"data_offsets":[0,8]}})", zeros(8)),
       "tensor 'w': unknown dtype 'F17'"},
      {"ShapeNotArray",
       assemble(R"({"w":{"dtype":"F32","shape":2,"data_offsets":[0,8]}})", zeros(8)),
       "tensor 'w': missing or non-array 'shape'"},
      {"NegativeDimension",
       assemble(R"({"w":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", zeros(8)),
       "tensor 'w': shape entries must be non-negative integers"},
      {"FractionalDimension",
       assemble(R"({"w":{"dtype":"F32","shape":[2.5],"data_offsets":[0,8]}})", zeros(8)),
       "non-negative integers"},
      {"RankTooHigh",
       assemble(R"({"w":{"dtype":"F32","shape":[1,1,1,1,1,1,1,1,1],"data_offsets":[0,4]}})",
                zeros(4)),
       "tensor 'w': rank 9 exceeds 8"},
      {"ShapeOverflows",
       assemble(R"({"w":{"dtype":"F32","shape":[4294967296,4294967296,16],"data_offsets":[0,8]}})",
                zeros(8)),
       "tensor 'w': shape [4294967296,4294967296,16] overflows"},
      {"OffsetsNotPair",
       assemble(R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0]}})", zeros(8)),
       "tensor 'w': 'data_offsets' must be two non-negative integers"},
      {"OffsetsReversed",
       assemble(R"({"w":{"dtype":"F32","shape":[0],"data_offsets":[8,0]}})", zeros(8)),
       "tensor 'w': data_offsets [8, 0] end before they begin"},
      {"OffsetsPastData",
       assemble(R"({"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})", zeros(8)),
       "tensor 'w': data_offsets [0, 16] run past the 8-byte data section"},
      {"LengthMismatch",
       assemble(R"({"w":{"dtype":"F16","shape":[2],"data_offsets":[0,8]}})", zeros(8)),
       "tensor 'w': shape [2] x F16 is 4 bytes but data_offsets span 8"},
      {"Overlap",
       assemble(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                R"("b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
                zeros(12)),
       "tensor 'b': bytes overlap those of tensor 'a'"},
      {"MetadataNotStrings", assemble("{\"__metadata__\":{\"k\":1}," + ok_entry + "}", zeros(8)),
       "__metadata__ entry 'k' is not a string"},
  };
  // A header length beyond the file.
  std::vector<std::uint8_t> past = assemble("{}", {});
  past[0] = 200;
  cases[1] = {"HeaderPastEnd", past, "runs past the end of the 10-byte file"};
  // A header length over the 100 MB limit (a random file's first 8 bytes).
  std::vector<std::uint8_t> huge(16, 0xff);
  cases[2] = {"HeaderOverLimit", huge, "exceeds the limit"};
  return cases;
}

class MalformedHeader : public ::testing::TestWithParam<Malformed> {};

TEST_P(MalformedHeader, IsRefusedNamingFileAndProblem) {
  const std::string message = rejection(GetParam().bytes);
  ASSERT_FALSE(message.empty()) << "accepted";
  EXPECT_NE(message.find("bad.safetensors"), std::string::npos) << message;
  EXPECT_NE(message.find(GetParam().expected), std::string::npos) << message;
}

INSTANTIATE_TEST_SUITE_P(Cases, MalformedHeader, ::testing::ValuesIn(malformed_cases()),
                         [](const ::testing::TestParamInfo<Malformed>& param_info) {
                           return param_info.param.name;
                         });

TEST(Safetensors, WellFormedFileReadsBackExactly) {
  std::vector<std::uint8_t> half_bits = {0x00, 0x3c,   // 1.0
                                         0x00, 0xc0,   // -2.0
                                         0x01, 0x00,   // smallest subnormal 2^-24
                                         0xff, 0x7b};  // 65504, the largest half
  std::vector<std::uint8_t> bf16_bits = {0x80, 0x3f,   // 1.0
                                         0x49, 0x40};  // 3.140625
  const auto bytes = test::make_safetensors({
      TensorSpec{"a.weight", "F32", {2, 2}, test::f32_bytes({1.5f, -2.0f, 0.25f, 1e-30f})},
      TensorSpec{"b.half", "F16", {4}, half_bits},
      TensorSpec{"c.bf16", "BF16", {2}, bf16_bits},
      TensorSpec{"d.empty", "F32", {0, 3}, {}},
      TensorSpec{"e.ids", "I64", {1}, zeros(8)},
  });
  const auto file = SafetensorsFile::from_bytes(bytes, "good.safetensors");
  ASSERT_EQ(file.tensors().size(), 5u);
  const Weight a = file.read_f32("a.weight");
  EXPECT_EQ(a.shape, (std::vector<std::int64_t>{2, 2}));
  EXPECT_EQ(a.data, (std::vector<float>{1.5f, -2.0f, 0.25f, 1e-30f}));
  EXPECT_EQ(file.read_f32("b.half").data,
            (std::vector<float>{1.0f, -2.0f, std::ldexp(1.0f, -24), 65504.0f}));
  EXPECT_EQ(file.read_f32("c.bf16").data, (std::vector<float>{1.0f, 3.140625f}));
  EXPECT_TRUE(file.read_f32("d.empty").data.empty());
  EXPECT_EQ(file.find("e.ids")->dtype, Dtype::I64);
}

// The message of the InputError that reading tensor `name` of `file` throws ("" if none).
std::string read_error(const SafetensorsFile& file, const std::string& name) {
  try {
    file.read_f32(name);
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

TEST(Safetensors, NonFloatTensorIsNotReadAsAWeight) {
  const auto file = SafetensorsFile::from_bytes(
      test::make_safetensors({TensorSpec{"ids", "I64", {1}, zeros(8)}}), "ids.safetensors");
  const std::string message = read_error(file, "ids");
  EXPECT_NE(message.find("tensor 'ids': dtype I64 is not a float"), std::string::npos) << message;
}

TEST(Safetensors, NanWeightIsRefusedNamingTheTensor) {
  const auto file = SafetensorsFile::from_bytes(
      test::make_safetensors({TensorSpec{"w", "F32", {2}, test::f32_bytes({0.0f, std::nanf("")})}}),
      "nan.safetensors");
  const std::string message = read_error(file, "w");
  EXPECT_NE(message.find("nan.safetensors: tensor 'w': holds a NaN"), std::string::npos) << message;
}

TEST(Safetensors, MissingAndNonRegularFilesAreInputErrors) {
  EXPECT_THROW(SafetensorsFile::open("/nonexistent/x.safetensors"), InputError);
  EXPECT_THROW(SafetensorsFile::open("/tmp"), InputError);
}

}  // namespace
}  // namespace dw::vae
