#include "core/config_outputs_toml.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <functional>
#include <map>
#include <sstream>

#include "core/image.h"

namespace dw {
namespace {

const std::vector<std::string> kModeNames = {"windowed", "borderless", "fullscreen"};

std::string number(double v) {
  std::string s = fmt::format("{}", v);
  if (s.find_first_of(".eEn") == std::string::npos) s += ".0";
  return s;
}

std::string quoted(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

std::string node_text(const toml::node& n) {
  std::ostringstream out;
  n.visit([&out](const auto& v) { out << v; });
  return out.str();
}

// One field's reader: parses the node into the output or returns why not.
using Reader = std::function<std::optional<std::string>(const toml::node&, OutputConfig&)>;

std::optional<double> as_number(const toml::node& n) {
  if (n.is_floating_point()) return n.as_floating_point()->get();
  if (n.is_integer()) return static_cast<double>(n.as_integer()->get());
  return std::nullopt;
}

Reader read_int(int OutputConfig::*field) {
  return [field](const toml::node& n, OutputConfig& o) -> std::optional<std::string> {
    if (!n.is_integer()) return "an integer";
    const long long v = n.as_integer()->get();
    if (v < -1000000 || v > 1000000) return "an integer";
    o.*field = static_cast<int>(v);
    return std::nullopt;
  };
}

Reader read_double(std::function<double&(OutputConfig&)> at) {
  return [at](const toml::node& n, OutputConfig& o) -> std::optional<std::string> {
    const auto v = as_number(n);
    if (!v || !std::isfinite(*v)) return "a number";
    at(o) = *v;
    return std::nullopt;
  };
}

Reader read_bool(bool OutputConfig::*field) {
  return [field](const toml::node& n, OutputConfig& o) -> std::optional<std::string> {
    if (!n.is_boolean()) return "true or false";
    o.*field = n.as_boolean()->get();
    return std::nullopt;
  };
}

// A list of `count` numbers ([x, y, w, h]) or of points ([[x, y], ...]).
std::optional<std::vector<double>> numbers(const toml::node& n, std::size_t count) {
  const toml::array* a = n.as_array();
  if (!a || a->size() != count) return std::nullopt;
  std::vector<double> out;
  for (const toml::node& item : *a) {
    const auto v = as_number(item);
    if (!v || !std::isfinite(*v)) return std::nullopt;
    out.push_back(*v);
  }
  return out;
}

std::optional<std::vector<OutputPoint>> points(const toml::node& n) {
  const toml::array* a = n.as_array();
  if (!a) return std::nullopt;
  std::vector<OutputPoint> out;
  for (const toml::node& item : *a) {
    const auto xy = numbers(item, 2);
    if (!xy) return std::nullopt;
    out.push_back({(*xy)[0], (*xy)[1]});
  }
  return out;
}

std::optional<std::string> read_mesh(const toml::node& n, OutputConfig& o) {
  const char* want = "a table {rows = R, cols = C, points = [[x, y], ...]}";
  const toml::table* t = n.as_table();
  if (!t) return want;
  OutputMesh m;
  for (const auto& [key, value] : *t) {
    if (key == "rows" && value.is_integer())
      m.rows = static_cast<int>(std::clamp<long long>(value.as_integer()->get(), -1, 1000));
    else if (key == "cols" && value.is_integer())
      m.cols = static_cast<int>(std::clamp<long long>(value.as_integer()->get(), -1, 1000));
    else if (key == "points" && points(value))
      m.points = *points(value);
    else
      return fmt::format("{} (mesh.{} is not valid here)", want, key.str());
  }
  o.mesh = std::move(m);
  return std::nullopt;
}

const std::map<std::string, Reader, std::less<>>& readers() {
  static const std::map<std::string, Reader, std::less<>> table = {
      {"display", read_int(&OutputConfig::display)},
      {"mode",
       [](const toml::node& n, OutputConfig& o) -> std::optional<std::string> {
         const auto it = n.is_string()
                             ? std::find(kModeNames.begin(), kModeNames.end(), n.as_string()->get())
                             : kModeNames.end();
         if (it == kModeNames.end()) return "one of windowed, borderless, fullscreen";
         o.mode = static_cast<OutputMode>(it - kModeNames.begin());
         return std::nullopt;
       }},
      {"width", read_int(&OutputConfig::width)},
      {"height", read_int(&OutputConfig::height)},
      {"region",
       [](const toml::node& n, OutputConfig& o) -> std::optional<std::string> {
         const auto v = numbers(n, 4);
         if (!v) return "[x, y, w, h] (four numbers)";
         o.region = {(*v)[0], (*v)[1], (*v)[2], (*v)[3]};
         return std::nullopt;
       }},
      {"rotate", read_int(&OutputConfig::rotate)},
      {"flip_h", read_bool(&OutputConfig::flip_h)},
      {"flip_v", read_bool(&OutputConfig::flip_v)},
      {"corners",
       [](const toml::node& n, OutputConfig& o) -> std::optional<std::string> {
         const auto p = points(n);
         if (!p || p->size() != 4)
           return "four points [[x, y], [x, y], [x, y], [x, y]] (top-left, top-right, "
                  "bottom-right, bottom-left)";
         std::copy(p->begin(), p->end(), o.corners.begin());
         return std::nullopt;
       }},
      {"mesh", read_mesh},
      {"blend_left", read_double([](OutputConfig& o) -> double& { return o.blend.left; })},
      {"blend_right", read_double([](OutputConfig& o) -> double& { return o.blend.right; })},
      {"blend_top", read_double([](OutputConfig& o) -> double& { return o.blend.top; })},
      {"blend_bottom", read_double([](OutputConfig& o) -> double& { return o.blend.bottom; })},
      {"blend_curve", read_double([](OutputConfig& o) -> double& { return o.blend.curve; })},
      {"blend_gamma", read_double([](OutputConfig& o) -> double& { return o.blend.gamma; })},
      {"black_lift", read_double([](OutputConfig& o) -> double& { return o.blend.black_lift; })},
      {"mask",
       [](const toml::node& n, OutputConfig& o) -> std::optional<std::string> {
         if (!n.is_string()) return "a string (a PNG file)";
         o.mask = n.as_string()->get();
         return std::nullopt;
       }},
      {"gamma", read_double([](OutputConfig& o) -> double& { return o.gamma; })},
      {"brightness", read_double([](OutputConfig& o) -> double& { return o.brightness; })},
  };
  return table;
}

std::string known_keys() {
  std::string out;
  for (const auto& [key, reader] : readers()) out += (out.empty() ? "" : ", ") + key;
  return out;
}

std::optional<std::string> parse_one(const toml::table& table, OutputConfig& o) {
  for (const auto& [key, value] : table) {
    const auto it = readers().find(key.str());
    if (it == readers().end())
      return fmt::format("unknown key '{}' (line {}); an output has {}", key.str(),
                         value.source().begin.line, known_keys());
    if (auto want = it->second(value, o))
      return fmt::format("{} = {} (line {}) has the wrong type or form: allowed is {}", key.str(),
                         node_text(value), value.source().begin.line, *want);
  }
  return check_output(o);
}

}  // namespace

std::optional<std::string> parse_output_tables(const toml::node& node, OutputsConfig& outputs,
                                               const std::string& base_dir) {
  const toml::array* list = node.as_array();
  if (!list || !list->is_array_of_tables())
    return fmt::format("output (line {}) must be an array of tables: write each one as [[output]]",
                       node.source().begin.line);
  std::vector<OutputConfig> parsed;
  for (std::size_t i = 0; i < list->size(); ++i) {
    const toml::table& t = *list->get(i)->as_table();
    OutputConfig o;
    if (auto err = parse_one(t, o))
      return fmt::format("output {} ([[output]] at line {}): {}", i + 1, t.source().begin.line,
                         *err);
    if (!o.mask.empty() && std::filesystem::path(o.mask).is_relative() && !base_dir.empty())
      o.mask = (std::filesystem::path(base_dir) / o.mask).lexically_normal().string();
    parsed.push_back(std::move(o));
  }
  if (parsed.size() > 16) return fmt::format("{} outputs: at most 16 are allowed", parsed.size());
  outputs.outputs = std::move(parsed);
  return std::nullopt;
}

std::string outputs_to_toml(const OutputsConfig& outputs) {
  std::string out;
  for (const OutputConfig& o : outputs.outputs) {
    const OutputRegion& r = o.region;
    out += fmt::format(
        "\n# one output: display, window mode and size, the canvas region it shows, its "
        "orientation, corner-pin, mesh and blending (docs/architecture.md, Outputs)\n[[output]]\n"
        "display = {}\nmode = {}\nwidth = {}\nheight = {}\nregion = [{}, {}, {}, {}]\n"
        "rotate = {}\nflip_h = {}\nflip_v = {}\ncorners = [",
        o.display, quoted(kModeNames[static_cast<int>(o.mode)]), o.width, o.height, number(r.x),
        number(r.y), number(r.w), number(r.h), o.rotate, o.flip_h, o.flip_v);
    for (int i = 0; i < 4; ++i)
      out +=
          fmt::format("{}[{}, {}]", i ? ", " : "", number(o.corners[i].x), number(o.corners[i].y));
    out += "]\n";
    if (!o.mesh.empty()) {
      out += fmt::format("mesh = {{ rows = {}, cols = {}, points = [", o.mesh.rows, o.mesh.cols);
      for (std::size_t i = 0; i < o.mesh.points.size(); ++i)
        out += fmt::format("{}[{}, {}]", i ? ", " : "", number(o.mesh.points[i].x),
                           number(o.mesh.points[i].y));
      out += "] }\n";
    }
    const OutputBlend& b = o.blend;
    out += fmt::format(
        "blend_left = {}\nblend_right = {}\nblend_top = {}\nblend_bottom = {}\n"
        "blend_curve = {}\nblend_gamma = {}\nblack_lift = {}\nmask = {}\ngamma = {}\n"
        "brightness = {}\n",
        number(b.left), number(b.right), number(b.top), number(b.bottom), number(b.curve),
        number(b.gamma), number(b.black_lift), quoted(o.mask), number(o.gamma),
        number(o.brightness));
  }
  return out;
}

std::optional<std::string> validate_outputs(const Config& config) {
  const auto& list = config.outputs.outputs;
  for (std::size_t i = 0; i < list.size(); ++i)
    if (auto err = check_output(list[i])) return fmt::format("output {}: {}", i + 1, *err);
  return std::nullopt;
}

std::optional<std::string> check_output_masks(const Config& config) {
  const auto& list = config.outputs.outputs;
  for (std::size_t i = 0; i < list.size(); ++i) {
    const OutputConfig& o = list[i];
    if (o.mask.empty()) continue;
    Image mask;
    try {
      mask = load_image(o.mask);
    } catch (const std::exception& e) {
      return fmt::format("output {}: mask = {} cannot be read: {}", i + 1, quoted(o.mask),
                         e.what());
    }
    int w, h;
    known_output_size(o, config.display.width, config.display.height, w, h);
    if (w > 0 && (mask.width != w || mask.height != h))
      return fmt::format(
          "output {}: mask = {} is {}x{} but the output is {}x{} (the mask covers "
          "the window pixel for pixel)",
          i + 1, quoted(o.mask), mask.width, mask.height, w, h);
  }
  return std::nullopt;
}

}  // namespace dw
