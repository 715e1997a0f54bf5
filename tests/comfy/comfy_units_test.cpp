// The ComfyUI client's pure parts: workflow templates and bindings, validation messages, server
// error wording, names from the server, binary frames, and the bounded PNG codec.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <png.h>
#include <zlib.h>

#include <cstring>
#include <regex>

#include "comfy/png_codec.h"
#include "comfy/protocol.h"
#include "comfy/workflow.h"
#include "core/error.h"

namespace dw::comfy {
namespace {

using nlohmann::json;

WorkflowValues sample_values() {
  WorkflowValues v;
  v.image = "in.png";
  v.positive = "a lighthouse";
  v.negative = "blurry";
  v.seed = 18446744073709551615ull;
  v.checkpoint = "v1-5-pruned-emaonly.safetensors";
  return v;
}

// What /object_info answers for the shipped templates' classes (trimmed to what check() reads).
json object_info() {
  return json::parse(R"({
    "CheckpointLoaderSimple": {"input": {"required": {"ckpt_name": [["v1-5-pruned-emaonly.safetensors"]]}}},
    "CLIPTextEncode": {"input": {"required": {"text": ["STRING", {}], "clip": ["CLIP"]}}},
    "LoadImage": {"input": {"required": {"image": [[], {"image_upload": true}]}}},
    "ImageScale": {"input": {"required": {"image": ["IMAGE"], "upscale_method": [["bilinear"]],
        "width": ["INT", {"min": 0, "max": 16384}], "height": ["INT", {"min": 0, "max": 16384}],
        "crop": [["disabled", "center"]]}}},
    "VAEEncode": {"input": {"required": {"pixels": ["IMAGE"], "vae": ["VAE"]}}},
    "VAEDecode": {"input": {"required": {"samples": ["LATENT"], "vae": ["VAE"]}}},
    "KSampler": {"input": {"required": {"model": ["MODEL"],
        "seed": ["INT", {"min": 0, "max": 18446744073709551615}], "steps": ["INT", {"min": 1, "max": 10000}],
        "cfg": ["FLOAT", {"min": 0.0, "max": 100.0}], "sampler_name": ["COMBO", {"options": ["euler"]}],
        "scheduler": [["karras", "normal"]], "positive": ["CONDITIONING"], "negative": ["CONDITIONING"],
        "latent_image": ["LATENT"], "denoise": ["FLOAT", {"min": 0.0, "max": 1.0}]}}},
    "SaveImageWebsocket": {"input": {"required": {"images": ["IMAGE"]}}}
  })");
}

TEST(Workflow, ShippedTemplatesFillEveryPlaceholderWithTypedValues) {
  for (const char* name : {"sd15_img2img", "sdxl_img2img"}) {
    const Workflow w = Workflow::load(name, {});
    EXPECT_EQ(w.image_output().class_type, "SaveImageWebsocket") << name;
    const json g = w.fill(sample_values());
    EXPECT_EQ(g["4"]["inputs"]["image"], "in.png");
    EXPECT_EQ(g["2"]["inputs"]["text"], "a lighthouse");
    EXPECT_EQ(g["3"]["inputs"]["text"], "blurry");
    EXPECT_TRUE(g["7"]["inputs"]["seed"].is_number_unsigned());
    // The seed reaches the wire digit for digit: never through a double.
    EXPECT_NE(g.dump().find("\"seed\":18446744073709551615"), std::string::npos);
    EXPECT_EQ(g["7"]["inputs"]["steps"], 10);
    EXPECT_EQ(g.dump().find("{{"), std::string::npos) << name << " left a placeholder unfilled";
    EXPECT_TRUE(w.check(object_info(), sample_values()).empty()) << name;
  }
}

TEST(Workflow, CheckNamesNodeClassAndInput) {
  const Workflow w = Workflow::load("sd15_img2img", {});
  WorkflowValues v = sample_values();
  v.checkpoint = "missing.safetensors";
  v.sampler = "nope";
  v.denoise = 1.5;
  json info = object_info();
  info.erase("VAEDecode");
  const auto problems = w.check(info, v);
  const std::string all = fmt::format("{}", fmt::join(problems, "\n"));
  EXPECT_NE(all.find("node 1 (CheckpointLoaderSimple) input 'ckpt_name': \"missing.safetensors\" "
                     "is not offered by the server (offered: v1-5-pruned-emaonly.safetensors)"),
            std::string::npos)
      << all;
  EXPECT_NE(all.find("node 7 (KSampler) input 'sampler_name'"), std::string::npos) << all;
  EXPECT_NE(all.find("node 7 (KSampler) input 'denoise': 1.5 is above the maximum 1.0"),
            std::string::npos)
      << all;
  EXPECT_NE(all.find("node 8 (VAEDecode): class 'VAEDecode' is not installed"), std::string::npos)
      << all;
  EXPECT_EQ(problems.size(), 4u) << all;
}

TEST(Workflow, OffersTheServersOwnChoicesInBothComboFormats) {
  const Workflow w = Workflow::load("sd15_img2img", {});
  json info = object_info();
  info["KSampler"]["input"]["required"]["sampler_name"] =
      json::parse(R"(["COMBO", {"options": ["euler", "dpmpp_2m", "lcm"]}])");
  info["CheckpointLoaderSimple"]["input"]["required"]["ckpt_name"] =
      json::parse(R"([["a.safetensors", "b\u001b[31m.safetensors"]])");
  const auto offered = w.offered(info);
  EXPECT_EQ(offered.at("sampler"), (std::vector<std::string>{"euler", "dpmpp_2m", "lcm"}))
      << "the newer COMBO format";
  EXPECT_EQ(offered.at("scheduler"), (std::vector<std::string>{"karras", "normal"}))
      << "the classic list format";
  ASSERT_EQ(offered.at("checkpoint").size(), 2u);
  EXPECT_EQ(offered.at("checkpoint")[1].find('\x1b'), std::string::npos)
      << "a name from the server is made printable before the overlay shows it";
  EXPECT_FALSE(offered.contains("steps")) << "only combo inputs are offered";
  info.erase("KSampler");
  EXPECT_FALSE(w.offered(info).contains("sampler")) << "a class the server lacks offers nothing";
}

TEST(Workflow, BindingsMapAUserWorkflowAndBadOnesNameTheProblem) {
  const json graph = json::parse(R"({
    "10": {"class_type": "LoadImage", "inputs": {"image": "example.png"}},
    "11": {"class_type": "KSampler", "inputs": {"seed": 5, "steps": 20}},
    "12": {"class_type": "SaveImage", "inputs": {"images": ["10", 0], "filename_prefix": "x"}}})");
  const Workflow w = Workflow::from_json(graph, "mine.json", {"image=10.image", "seed=11.seed"});
  EXPECT_EQ(w.image_output().id, "12");
  const json g = w.fill(sample_values());
  EXPECT_EQ(g["10"]["inputs"]["image"], "in.png");
  EXPECT_EQ(g["11"]["inputs"]["seed"].get<std::uint64_t>(), 18446744073709551615ull);
  EXPECT_EQ(g["11"]["inputs"]["steps"], 20);  // not bound: the user's value stays

  const auto message = [&](std::vector<std::string> bindings) {
    try {
      Workflow::from_json(graph, "mine.json", bindings);
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(
      message({"image=10.image", "seed=11.sed"}).find("node 11 (KSampler) has no input 'sed'"),
      std::string::npos);
  EXPECT_NE(message({"image=10.image", "seed=99.seed"}).find("has no node 99"), std::string::npos);
  EXPECT_NE(message({"image=10.image", "colour=11.seed"}).find("unknown name 'colour'"),
            std::string::npos);
  EXPECT_NE(message({"seed=11.seed"}).find("no input carries {{image}}"), std::string::npos);
  EXPECT_NE(message({"image10.image"}).find("is not NAME=NODE.INPUT"), std::string::npos);
}

TEST(Workflow, UnknownPlaceholderAndUiFormatAreRefused) {
  const json typo =
      json::parse(R"({"1": {"class_type": "LoadImage", "inputs": {"image": "{{imgae}}"}}})");
  try {
    Workflow::from_json(typo, "t.json", {});
    FAIL() << "accepted an unknown placeholder";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("node 1 (LoadImage) input 'image': unknown placeholder "
                                         "'{{imgae}}'"),
              std::string::npos)
        << e.what();
  }
  EXPECT_THROW(Workflow::from_json(json::parse(R"({"nodes": [], "links": []})"), "ui.json", {}),
               InputError);
  EXPECT_THROW(Workflow::load("no_such_template", {}), InputError);
}

TEST(Protocol, PromptErrorNamesNodeClassAndInput) {
  const json body = json::parse(R"({
    "error": {"type": "prompt_outputs_failed_validation", "message": "Prompt outputs failed validation",
              "details": "", "extra_info": {}},
    "node_errors": {"4": {"errors": [{"type": "value_not_in_list", "message": "Value not in list",
        "details": "ckpt_name: 'x.safetensors' not in []", "extra_info": {"input_name": "ckpt_name"}}],
        "dependent_outputs": ["9"], "class_type": "CheckpointLoaderSimple"}}})");
  const std::string text = describe_prompt_error(body);
  EXPECT_NE(text.find("node 4 (CheckpointLoaderSimple) input 'ckpt_name': Value not in list: "
                      "ckpt_name: 'x.safetensors' not in []"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("prompt_outputs_failed_validation"), std::string::npos) << text;
  const json exec = json::parse(R"({"prompt_id": "p", "node_id": "7", "node_type": "KSampler",
      "exception_type": "torch.OutOfMemoryError", "exception_message": "CUDA out of memory"})");
  EXPECT_EQ(describe_execution_error(exec),
            "ComfyUI failed in node 7 (KSampler): torch.OutOfMemoryError: CUDA out of memory");
}

TEST(Protocol, NamesFromTheServerNeverEscape) {
  EXPECT_TRUE(is_safe_name("dreamwindow-1.png"));
  EXPECT_TRUE(is_safe_name("image (1).png"));
  for (const char* bad : {"", "..", "../x.png", "a/b.png", "a\\b.png", "/etc/passwd", "x..png",
                          "c:evil", "new\nline"})
    EXPECT_FALSE(is_safe_name(bad)) << bad;
  EXPECT_TRUE(is_safe_subfolder(""));
  EXPECT_TRUE(is_safe_subfolder("dream/2026"));
  EXPECT_FALSE(is_safe_subfolder("dream/../.."));
  EXPECT_FALSE(is_safe_subfolder("/abs"));
  EXPECT_FALSE(is_safe_subfolder("a//b"));
}

TEST(Protocol, BinaryFramesCarryPreviewImagesOnly) {
  const std::string png = "\x89PNG....";
  EXPECT_EQ(binary_frame_image(std::string("\0\0\0\1\0\0\0\2", 8) + png), png);
  EXPECT_FALSE(binary_frame_image(std::string("\0\0\0\3\0\0\0\2", 8) + png));  // text event
  EXPECT_FALSE(binary_frame_image(std::string("\0\0\0\1\0\0\0\7", 8) + png));  // unknown format
  EXPECT_FALSE(binary_frame_image(std::string("\0\0\0\1", 4)));
}

TEST(Protocol, UuidsAreCanonicalAndFresh) {
  const std::regex canonical("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");
  const std::string a = new_uuid(), b = new_uuid();
  EXPECT_TRUE(std::regex_match(a, canonical)) << a;
  EXPECT_NE(a, b);
}

// Where our prompt is in /queue, also when the queue is too long to parse within the limits
// (someone's batch on a shared server, each item with the web UI's whole workflow): it counted as
// the server being unavailable, and the lane retried and left prompts behind.
TEST(Protocol, OurPlaceInTheQueueIsFoundAlsoInAQueueTooLongToParse) {
  const std::string ours = "7f0c3b1e-9a55-4a6e-8a1e-2f6f0b1d9c42";
  const auto item = [](const std::string& pid, std::size_t ballast) {
    std::string workflow = "[";
    for (std::size_t i = 0; i < ballast; ++i) workflow += i ? ",1" : "1";
    return fmt::format(R"([7, "{}", {{}}, {{"extra_pnginfo": {{"workflow": {}]}}}}, []])", pid,
                       workflow);
  };
  const auto queue = [&](const std::string& running, const std::vector<std::string>& pending,
                         std::size_t ballast) {
    std::string text = R"({"queue_running": [)";
    if (!running.empty()) text += item(running, ballast);
    text += R"(], "queue_pending": [)";
    for (std::size_t i = 0; i < pending.size(); ++i)
      text += (i ? ", " : "") + item(pending[i], ballast);
    return text + "]}";
  };
  const std::string what = "http://x/queue";
  for (const std::size_t ballast : {std::size_t{3}, std::size_t{200'000}}) {
    SCOPED_TRACE(ballast);
    EXPECT_EQ(queue_place(queue(ours, {"a", "b"}, ballast), ours, what), QueuePlace::Running);
    EXPECT_EQ(queue_place(queue("a", {"b", ours}, ballast), ours, what), QueuePlace::Waiting);
    EXPECT_EQ(queue_place(queue("a", {"b"}, ballast), ours, what), QueuePlace::Absent);
    EXPECT_EQ(queue_place(queue("", {}, ballast), ours, what), QueuePlace::Absent);
  }
  EXPECT_THROW(queue_place(R"({"error": "no"})", ours, what), ServerError);
  EXPECT_THROW(queue_place("<html>busy</html>", ours, what), ServerError);
}

// The same search over a queue fed piece by piece (QueueScan: a queue longer than any answer the
// client keeps), with every cut of the text: a key or an id split between two pieces is found.
TEST(Protocol, OurPlaceInTheQueueIsFoundInAQueueReadPieceByPiece) {
  const std::string ours = "7f0c3b1e-9a55-4a6e-8a1e-2f6f0b1d9c42";
  const std::string other = "0d9c4b2e-1a55-4a6e-8a1e-2f6f0b1d9c43";
  const std::string what = "http://x/queue";
  const std::string running = R"({"queue_running": [[1, ")" + other +
                              R"(", {}, {}, []]], "queue_pending": [[2, ")" + ours +
                              R"(", {"w": "queue_running"}, {}, []]]})";
  for (std::size_t piece = 1; piece <= running.size(); ++piece) {
    SCOPED_TRACE(piece);
    QueueScan scan({ours, other, "absent-id"});
    for (std::size_t at = 0; at < running.size(); at += piece)
      scan.feed(std::string_view(running).substr(at, piece));
    EXPECT_EQ(scan.place(0, what), QueuePlace::Waiting);
    EXPECT_EQ(scan.place(1, what), QueuePlace::Running);
    EXPECT_EQ(scan.place(2, what), QueuePlace::Absent);
  }
  QueueScan no_queue({ours});
  no_queue.feed("<html>busy</html>");
  EXPECT_THROW(no_queue.place(0, what), ServerError);
}

TEST(PngCodec, RoundTripsAndCapsBytesAndDimensionsBeforeDecoding) {
  Image img(40, 24);
  for (int y = 0; y < img.height; ++y)
    for (int x = 0; x < img.width; ++x) {
      std::uint8_t* p = img.pixel(x, y);
      p[0] = static_cast<std::uint8_t>(x * 6), p[1] = static_cast<std::uint8_t>(y * 10), p[2] = 77,
      p[3] = 255;
    }
  const std::string png = encode_upload_png(img);
  const std::span<const std::uint8_t> bytes(reinterpret_cast<const std::uint8_t*>(png.data()),
                                            png.size());
  const Image back = decode_keyframe_image(bytes, "test", {});
  EXPECT_EQ(back.width, 40);
  EXPECT_EQ(back.height, 24);
  EXPECT_EQ(back.rgba, img.rgba);
  try {
    decode_keyframe_image(bytes, "wide", ImageLimits{1u << 20, 32, 32});
    FAIL() << "a 40x24 image passed a 32x32 cap";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("40x24, outside the allowed 1x1 to 32x32"),
              std::string::npos);
  }
  EXPECT_THROW(decode_keyframe_image(bytes, "big", ImageLimits{png.size() - 1, 64, 64}),
               InputError);
  std::string broken = png.substr(0, png.size() / 2);
  EXPECT_THROW(
      decode_keyframe_image({reinterpret_cast<const std::uint8_t*>(broken.data()), broken.size()},
                            "truncated", {}),
      InputError);
  const std::string text = "<html>500</html>";
  EXPECT_THROW(decode_keyframe_image(
                   {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()}, "html", {}),
               InputError);
}

// A PNG written the long way: row y uses filter y % 5 (none, sub, up, average, Paeth), the
// data is split over several IDAT chunks, `channels` is 3 or 4.
std::string png_with_every_filter(const Image& img, int channels) {
  const std::size_t w = static_cast<std::size_t>(img.width), stride = w * channels;
  std::vector<std::uint8_t> raw;
  std::vector<std::uint8_t> prior(stride, 0), cur(stride);
  for (int y = 0; y < img.height; ++y) {
    for (std::size_t x = 0; x < w; ++x)
      for (int c = 0; c < channels; ++c)
        cur[x * channels + c] = img.pixel(static_cast<int>(x), y)[c];
    const int type = y % 5;
    raw.push_back(static_cast<std::uint8_t>(type));
    for (std::size_t i = 0; i < stride; ++i) {
      const int a = i >= static_cast<std::size_t>(channels) ? cur[i - channels] : 0,
                b = y > 0 ? prior[i] : 0,
                c = i >= static_cast<std::size_t>(channels) && y > 0 ? prior[i - channels] : 0;
      int pred = 0;
      if (type == 1) pred = a;
      if (type == 2) pred = b;
      if (type == 3) pred = (a + b) / 2;
      if (type == 4) {
        const int p = a + b - c, pa = std::abs(p - a), pb = std::abs(p - b), pc = std::abs(p - c);
        pred = pa <= pb && pa <= pc ? a : (pb <= pc ? b : c);
      }
      raw.push_back(static_cast<std::uint8_t>(cur[i] - pred));
    }
    prior = cur;
  }
  uLongf n = compressBound(static_cast<uLong>(raw.size()));
  std::vector<std::uint8_t> z(n);
  compress2(z.data(), &n, raw.data(), static_cast<uLong>(raw.size()), 6);
  std::string out("\x89PNG\r\n\x1a\n", 8);
  const auto chunk = [&](const char* type, const std::uint8_t* data, std::size_t len) {
    std::string c(type, 4);
    c.append(reinterpret_cast<const char*>(data), len);
    const auto crc = static_cast<std::uint32_t>(
        crc32(0, reinterpret_cast<const Bytef*>(c.data()), static_cast<uInt>(c.size())));
    for (int i = 3; i >= 0; --i) out.push_back(static_cast<char>((len >> (8 * i)) & 0xFF));
    out += c;
    for (int i = 3; i >= 0; --i) out.push_back(static_cast<char>((crc >> (8 * i)) & 0xFF));
  };
  const std::uint8_t ihdr[13] = {0,
                                 0,
                                 static_cast<std::uint8_t>(img.width >> 8),
                                 static_cast<std::uint8_t>(img.width),
                                 0,
                                 0,
                                 static_cast<std::uint8_t>(img.height >> 8),
                                 static_cast<std::uint8_t>(img.height),
                                 8,
                                 static_cast<std::uint8_t>(channels == 3 ? 2 : 6),
                                 0,
                                 0,
                                 0};
  chunk("IHDR", ihdr, 13);
  chunk("tEXt", reinterpret_cast<const std::uint8_t*>("Comment\0x"), 9);  // ancillary: skipped
  const std::size_t third = n / 3;
  chunk("IDAT", z.data(), third);
  chunk("IDAT", z.data() + third, third);
  chunk("IDAT", z.data() + 2 * third, n - 2 * third);
  chunk("IEND", nullptr, 0);
  return out;
}

Image textured(int w, int h) {
  Image img(w, h);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      std::uint8_t* p = img.pixel(x, y);
      p[0] = static_cast<std::uint8_t>(x * 7 + y * 3),
      p[1] = static_cast<std::uint8_t>((x ^ y) * 5);
      p[2] = static_cast<std::uint8_t>(y * 11), p[3] = static_cast<std::uint8_t>(255 - x);
    }
  return img;
}

std::span<const std::uint8_t> span_of(const std::string& s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

TEST(PngCodec, EveryRowFilterAndSplitDataDecodeExactly) {
  Image img = textured(37, 23);
  const Image rgba = decode_keyframe_image(span_of(png_with_every_filter(img, 4)), "rgba", {});
  EXPECT_EQ(rgba.rgba, img.rgba);
  for (std::size_t i = 3; i < img.rgba.size(); i += 4) img.rgba[i] = 255;
  const Image rgb = decode_keyframe_image(span_of(png_with_every_filter(img, 3)), "rgb", {});
  EXPECT_EQ(rgb.rgba, img.rgba);
}

TEST(PngCodec, DamagedDataIsAnErrorNamingTheImage) {
  const std::string good = png_with_every_filter(textured(16, 16), 3);
  std::string bad_crc = good;
  bad_crc[40] ^= 0x5A;  // inside the tEXt or IDAT data: its CRC no longer matches
  EXPECT_THROW(decode_keyframe_image(span_of(bad_crc), "crc", {}), InputError);
  const std::string cut = good.substr(0, good.size() - 30);
  try {
    decode_keyframe_image(span_of(cut), "keyframe 9", {});
    FAIL() << "a truncated PNG decoded";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("keyframe 9"), std::string::npos) << e.what();
  }
  std::string huge = good;  // IHDR claims 70000 x 16: refused from the header
  huge[16] = 0, huge[17] = 1, huge[18] = 0x11, huge[19] = 0x70;
  const auto crc =
      static_cast<std::uint32_t>(crc32(0, reinterpret_cast<const Bytef*>(huge.data() + 12), 17));
  for (int i = 0; i < 4; ++i) huge[29 + i] = static_cast<char>((crc >> (24 - 8 * i)) & 0xFF);
  try {
    decode_keyframe_image(span_of(huge), "huge", {});
    FAIL() << "a 70000-pixel-wide PNG passed the 8192 cap";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("is 70000x16, outside the allowed"), std::string::npos)
        << e.what();
  }
}

TEST(PngCodec, OtherPngKindsGoThroughLibpng) {
  // Grey, 8 bit: not the fast path's kind; libpng expands it.
  std::vector<std::uint8_t> grey(20 * 10);
  for (std::size_t i = 0; i < grey.size(); ++i) grey[i] = static_cast<std::uint8_t>(i);
  png_image png;
  std::memset(&png, 0, sizeof png);
  png.version = PNG_IMAGE_VERSION;
  png.width = 20, png.height = 10, png.format = PNG_FORMAT_GRAY;
  png_alloc_size_t size = PNG_IMAGE_PNG_SIZE_MAX(png);
  std::string bytes(size, '\0');
  ASSERT_TRUE(png_image_write_to_memory(&png, bytes.data(), &size, 0, grey.data(), 0, nullptr));
  bytes.resize(size);
  const Image img = decode_keyframe_image(span_of(bytes), "grey", {});
  ASSERT_EQ(img.width, 20);
  EXPECT_EQ(img.pixel(5, 3)[0], 65);
  EXPECT_EQ(img.pixel(5, 3)[1], 65);
  EXPECT_EQ(img.pixel(5, 3)[3], 255);
}

}  // namespace
}  // namespace dw::comfy
