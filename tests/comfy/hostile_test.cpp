// What a hostile or broken server can send, at the parsers it reaches first: JSON nested or
// multiplied past every legitimate need, WebSocket frames whose lengths wrap or lie, floods of
// image frames, and error texts with broken characters and terminal escapes.
#include <gtest/gtest.h>

#include <string>

#include "comfy/json_limits.h"
#include "comfy/protocol.h"
#include "comfy/websocket.h"
#include "core/text.h"

namespace dw::comfy {
namespace {

using nlohmann::json;

std::string nested(std::size_t depth) {
  return std::string(depth, '[') + std::string(depth, ']');
}

std::string refusal(std::string_view text, const JsonLimits& limits) {
  std::string why;
  EXPECT_FALSE(parse_limited_json(text, limits, &why).has_value()) << text.substr(0, 80);
  return why;
}

TEST(JsonLimits, DeepNestingIsRefusedNamingTheDepthLimit) {
  // 100000 levels: parsed by nlohmann's own parser and copied, this overflows the stack.
  EXPECT_EQ(refusal(nested(100000), kWsMessageLimits),
            "nests deeper than 64 levels (the JSON depth limit)");
  const std::string objects = [] {
    std::string s;
    for (int i = 0; i < 100000; ++i) s += "{\"a\":";
    return s + "1" + std::string(100000, '}');
  }();
  EXPECT_NE(refusal(objects, kDocumentLimits).find("JSON depth limit"), std::string::npos);
  // At the limit it parses, and every level is there.
  const auto ok = parse_limited_json(nested(64), kWsMessageLimits);
  ASSERT_TRUE(ok.has_value());
  const json* level = &*ok;
  int depth = 0;
  while (level->is_array() && !level->empty()) {
    level = &(*level)[0];
    ++depth;
  }
  EXPECT_EQ(depth, 63);
}

TEST(JsonLimits, AJsonBombWithinTheByteCapIsRefusedNamingTheElementLimit) {
  // 1 MB of empty objects: 250000 values, each a heap allocation once parsed.
  std::string bomb = "[";
  for (int i = 0; i < 250000; ++i) bomb += "{},";
  bomb += "{}]";
  ASSERT_LT(bomb.size(), kWsMessageLimits.max_bytes);
  EXPECT_EQ(refusal(bomb, kWsMessageLimits),
            "holds more than 200000 values (the JSON element limit)");
  EXPECT_TRUE(parse_limited_json(bomb, kDocumentLimits).has_value());
}

TEST(JsonLimits, OversizedTextIsRefusedBeforeParsing) {
  const JsonLimits small{100, 8, 1000};
  EXPECT_EQ(refusal(std::string(101, ' '), small),
            "is 101 bytes, more than the limit of 100 bytes for JSON");
}

TEST(JsonLimits, LegitimateMessagesParseExactly) {
  const std::string text =
      R"({"type":"executing","data":{"node":"7","display_node":"7","prompt_id":"p"},)"
      R"("n":[1,-2,3.5,18446744073709551615,true,null,"é\u001b"],"dup":1,"dup":2})";
  const auto j = parse_limited_json(text, kWsMessageLimits);
  ASSERT_TRUE(j.has_value());
  EXPECT_EQ(*j, json::parse(text));
  EXPECT_EQ((*j)["n"][3].get<std::uint64_t>(), 18446744073709551615ull);  // no double rounding
  EXPECT_EQ((*j)["dup"], 2);  // the last duplicate wins, as with json::parse
}

TEST(JsonLimits, SyntaxErrorsNameTheirOffsetAndTheTextIsPrintable) {
  EXPECT_NE(refusal("{\"a\": [1, 2,, 3]}", kAnswerLimits)
                .find("is not valid JSON at byte 13: unexpected ','"),
            std::string::npos);
  EXPECT_FALSE(parse_limited_json("[1] trailing", kAnswerLimits).has_value());
  EXPECT_FALSE(parse_limited_json("", kAnswerLimits).has_value());
  try {
    parse_server_json("<html>\x1b[31mBad \xC3 Gateway</html>", "http://s/prompt");
    FAIL() << "HTML parsed as JSON";
  } catch (const ServerError& e) {
    const std::string what = e.what();
    EXPECT_EQ(what.find("http://s/prompt: the answer is not JSON: <html>\\x1b[31mBad "), 0u)
        << what;
    EXPECT_TRUE(is_valid_utf8(what));
    EXPECT_EQ(what.find('\x1b'), std::string::npos);
  }
  try {
    parse_server_json(nested(1000), "http://s/history", kDocumentLimits);
    FAIL() << "1000 levels passed";
  } catch (const TransportError& e) {
    EXPECT_STREQ(e.what(),
                 "http://s/history: the answer nests deeper than 64 levels (the JSON depth limit)");
  }
}

TEST(PromptErrors, ServerTextIsPrintableAndTheListIsBounded) {
  json body = {{"error",
                {{"type", "prompt_outputs_failed_validation"},
                 {"message", "Prompt outputs failed validation\n[info] forged"}}}};
  json errors = json::array();
  for (int i = 0; i < 5000; ++i)
    errors.push_back({{"type", "value_not_in_list"},
                      {"message", "Value not in list"},
                      {"details", "ckpt_name: 'mod\xC3\xA8le\x1b]0;pwned\x07' not in []"},
                      {"extra_info", {{"input_name", "ckpt_name"}}}});
  body["node_errors"]["4"] = {{"errors", errors}, {"class_type", "CheckpointLoaderSimple"}};
  body["node_errors"]["5"] = "not an object";
  const std::string text = describe_prompt_error(body);
  EXPECT_NE(text.find("node 4 (CheckpointLoaderSimple) input 'ckpt_name': Value not in list: "
                      "ckpt_name: 'modèle\\x1b]0;pwned\\x07' not in []"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("validation\\n[info] forged"), std::string::npos) << text;
  EXPECT_NE(text.find("and 4988 more"), std::string::npos) << text;
  EXPECT_LT(text.size(), 4000u);
  EXPECT_TRUE(is_valid_utf8(text));
  for (const char c : text) EXPECT_GE(static_cast<unsigned char>(c), 0x20);
}

TEST(PromptErrors, AnExecutionErrorCutMidCharacterStaysValid) {
  std::string message = "CUDA a manqué de mémoire";
  message.resize(message.size() - 4);  // "...m\xC3" : cut inside "é"
  const json data = {{"node_id", "3"},
                     {"node_type", "KSampler"},
                     {"exception_type", "torch.OutOfMemoryError"},
                     {"exception_message", json::string_t(message)}};
  // json stores the bytes as given (a server's own truncation); the description must not carry
  // them on broken.
  const std::string text = describe_execution_error(data);
  EXPECT_TRUE(is_valid_utf8(text)) << text;
  EXPECT_NE(text.find("ComfyUI failed in node 3 (KSampler): torch.OutOfMemoryError: CUDA a manqu"),
            std::string::npos);
}

std::string frame_header(int first_byte, std::uint64_t len) {
  std::string f;
  f.push_back(static_cast<char>(first_byte));
  f.push_back(127);
  for (int i = 7; i >= 0; --i) f.push_back(static_cast<char>((len >> (8 * i)) & 0xFF));
  return f;
}

TEST(WsFrameReader, ALengthThatWrapsIsRefusedNotTrusted) {
  for (const int opcode : {0x89, 0x82, 0x01}) {
    for (const std::uint64_t len : {~std::uint64_t{0}, ~std::uint64_t{0} - 9,
                                    std::uint64_t{1} << 63, (std::uint64_t{1} << 62) + 5}) {
      WsFrameReader reader("ws", 1 << 20);
      const std::string bytes = frame_header(opcode, len) + "payload";
      EXPECT_THROW(reader.next(bytes), TransportError) << opcode << " " << len;
    }
  }
  // A fragmented message whose next fragment would wrap the total.
  WsFrameReader reader("ws", 1 << 20);
  const std::string first = std::string("\x02\x05", 2) + "hello";
  EXPECT_EQ(reader.next(first).consumed, first.size());
  EXPECT_THROW(reader.next(frame_header(0x80, ~std::uint64_t{0} - 2) + "x"), TransportError);
}

TEST(WsFrameReader, ControlFramesMustBeShortAndFinal) {
  WsFrameReader reader("ws", 1 << 20);
  EXPECT_THROW(reader.next(std::string("\x89\x7e\x00\x7e", 4) + std::string(126, 'p')),
               TransportError);
  EXPECT_THROW(reader.next(std::string("\x09\x00", 2)), TransportError);  // a fragmented ping
  const auto ping = reader.next(std::string("\x89\x02hi", 4));
  ASSERT_TRUE(ping.ping.has_value());
  EXPECT_EQ(*ping.ping, "hi");
  EXPECT_THROW(reader.next(std::string("\xC1\x00", 2)), TransportError);  // reserved bit
}

TEST(WsFrameReader, AFragmentedMessageIsCappedAsAWhole) {
  WsFrameReader reader("ws", 10);
  EXPECT_EQ(reader.next(std::string("\x01\x06") + "abcdef").consumed, 8u);
  EXPECT_FALSE(reader.next(std::string("\x00\x04", 2) + "ghij").message);  // 10 bytes: at the cap
  try {
    reader.next(std::string("\x80\x01") + "k");
    FAIL() << "11 bytes passed a 10 byte cap";
  } catch (const TransportError& e) {
    EXPECT_NE(std::string(e.what()).find("exceeds the limit of 10 bytes"), std::string::npos);
  }
}

TEST(WsFrameReader, IncompleteFramesAskForWhatTheyNeed) {
  WsFrameReader reader("ws", 1 << 20);
  const std::string f = std::string("\x81\x7e\x01\x00", 4) + std::string(256, 'x');
  EXPECT_EQ(reader.next(f.substr(0, 1)).need, 2u);
  EXPECT_EQ(reader.next(f.substr(0, 3)).need, 4u);
  EXPECT_EQ(reader.next(f.substr(0, 100)).need, 260u);
  const auto whole = reader.next(f);
  ASSERT_TRUE(whole.message.has_value());
  EXPECT_EQ(whole.message->payload.size(), 256u);
}

TEST(KeepFrame, AFloodOfFramesKeepsAFewNewestWithinTheByteBudget) {
  std::vector<std::pair<std::string, std::string>> frames;
  for (int i = 0; i < 10000; ++i)
    keep_frame(frames, "node" + std::to_string(i), std::string(1000, 'x'), 1u << 20);
  ASSERT_EQ(frames.size(), kMaxFramesPerPrompt);
  EXPECT_EQ(frames.back().first, "node9999");
  EXPECT_EQ(frames.front().first, "node9992");
  // Large frames: the byte budget holds, and the newest is always kept.
  for (int i = 0; i < 5; ++i)
    keep_frame(frames, "big" + std::to_string(i), std::string(600, 'y'), 1000);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames.back().first, "big4");
  keep_frame(frames, "huge", std::string(5000, 'z'), 1000);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames.back().first, "huge");
}

}  // namespace
}  // namespace dw::comfy
