#include "comfy/workflow.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>

#include "core/error.h"
#include "core/files.h"
#include "core/paths.h"
#include "core/text.h"

namespace dw::comfy {
namespace {

using nlohmann::json;

constexpr std::size_t kMaxWorkflowBytes = 16u << 20;

// "{{seed}}" -> "seed"; anything else -> "".
std::string placeholder_of(const json& value) {
  if (!value.is_string()) return {};
  const auto& s = value.get_ref<const std::string&>();
  if (s.size() < 5 || s.rfind("{{", 0) != 0 || s.compare(s.size() - 2, 2, "}}") != 0) return {};
  return s.substr(2, s.size() - 4);
}

json value_for(const std::string& name, const WorkflowValues& v) {
  if (name == "image") return v.image;
  if (name == "positive") return v.positive;
  if (name == "negative") return v.negative;
  if (name == "seed") return v.seed;  // an unsigned 64-bit JSON number, never a double
  if (name == "steps") return v.steps;
  if (name == "cfg") return v.cfg;
  if (name == "denoise") return v.denoise;
  if (name == "sampler") return v.sampler;
  if (name == "scheduler") return v.scheduler;
  if (name == "checkpoint") return v.checkpoint;
  if (name == "width") return v.width;
  if (name == "height") return v.height;
  throw Error("unknown placeholder " + name);  // load() admits only known names
}

std::string node_label(const json& graph, const std::string& id) {
  const auto it = graph.find(id);
  if (it == graph.end() || !it->contains("class_type")) return fmt::format("node {}", id);
  return fmt::format("node {} ({})", id, (*it)["class_type"].get<std::string>());
}

std::string brief(const json& value) {
  std::string s = value.dump();
  if (s.size() > 80) s = s.substr(0, 77) + "...";
  return s;
}

// The options of a combo input spec: ["a", "b"] (classic) or "COMBO" with {"options": [...]}.
const json* combo_options(const json& spec) {
  if (!spec.is_array() || spec.empty()) return nullptr;
  if (spec[0].is_array()) return &spec[0];
  if (spec[0] == "COMBO" && spec.size() > 1 && spec[1].is_object() && spec[1].contains("options"))
    return &spec[1]["options"];
  return nullptr;
}

__extension__ typedef __int128 Wide;  // holds every int64 and uint64

Wide wide(const json& j) {
  return j.is_number_unsigned() ? static_cast<Wide>(j.get<std::uint64_t>())
                                : static_cast<Wide>(j.get<std::int64_t>());
}

}  // namespace

const std::vector<std::string>& placeholder_names() {
  static const std::vector<std::string> names = {"image",     "positive",   "negative", "seed",
                                                 "steps",     "cfg",        "denoise",  "sampler",
                                                 "scheduler", "checkpoint", "width",    "height"};
  return names;
}

Workflow Workflow::load(const std::string& name_or_path, const std::vector<std::string>& bindings) {
  std::filesystem::path path = resolve_input_path(name_or_path);
  const bool is_name =
      name_or_path.find('/') == std::string::npos && name_or_path.find('.') == std::string::npos;
  if (is_name) {
    auto dir = find_data_path("assets/workflows");
    if (!dir)
      throw InputError(
          fmt::format("comfy.workflow: '{}' names a shipped template, but "
                      "assets/workflows was not found",
                      name_or_path));
    path = *dir / (name_or_path + ".json");
  }
  if (!std::filesystem::exists(path))
    throw InputError(fmt::format("comfy.workflow: '{}' not found{}", path.string(),
                                 is_name ? " (shipped: sd15_img2img, sdxl_img2img)" : ""));
  const auto bytes = read_file(path.string(), kMaxWorkflowBytes);
  json graph = json::parse(bytes.begin(), bytes.end(), nullptr, /*allow_exceptions=*/false);
  if (graph.is_discarded())
    throw InputError(fmt::format("comfy.workflow: '{}' is not valid JSON", path.string()));
  return from_json(graph, path.string(), bindings);
}

Workflow Workflow::from_json(const json& graph, const std::string& what,
                             const std::vector<std::string>& bindings) {
  Workflow w;
  w.what_ = what;
  if (!graph.is_object() || graph.empty())
    throw InputError(
        fmt::format("workflow '{}': not an API-format graph (an object of nodes); "
                    "export it with \"Save (API Format)\"",
                    what));
  if (graph.contains("nodes") && graph.contains("links"))
    throw InputError(
        fmt::format("workflow '{}' is in the UI format; export it with \"Save (API "
                    "Format)\" instead",
                    what));
  w.graph_ = graph;
  for (const auto& [id, node] : w.graph_.items()) {
    if (!node.is_object() || !node.contains("class_type") || !node["class_type"].is_string() ||
        !node.contains("inputs") || !node["inputs"].is_object())
      throw InputError(
          fmt::format("workflow '{}': node {} needs a \"class_type\" string and an "
                      "\"inputs\" object",
                      what, id));
  }
  const auto& known = placeholder_names();
  for (const std::string& b : bindings) {
    const auto eq = b.find('=');
    const auto dot = b.rfind('.');
    if (eq == std::string::npos || dot == std::string::npos || dot < eq || eq == 0 ||
        dot == eq + 1 || dot + 1 == b.size())
      throw InputError(
          fmt::format("comfy.bindings: '{}' is not NAME=NODE.INPUT (e.g. "
                      "seed=3.seed)",
                      b));
    const std::string name = b.substr(0, eq), node = b.substr(eq + 1, dot - eq - 1),
                      input = b.substr(dot + 1);
    if (std::find(known.begin(), known.end(), name) == known.end())
      throw InputError(fmt::format("comfy.bindings: '{}': unknown name '{}' (known: {})", b, name,
                                   fmt::join(known, ", ")));
    if (!w.graph_.contains(node))
      throw InputError(
          fmt::format("comfy.bindings: '{}': workflow '{}' has no node {}", b, what, node));
    if (!w.graph_[node]["inputs"].contains(input))
      throw InputError(fmt::format("comfy.bindings: '{}': {} has no input '{}'", b,
                                   node_label(w.graph_, node), input));
    w.graph_[node]["inputs"][input] = "{{" + name + "}}";
  }
  bool has_image = false;
  for (const auto& [id, node] : w.graph_.items()) {
    const std::string cls = node["class_type"].get<std::string>();
    for (const auto& [input, value] : node["inputs"].items()) {
      const std::string name = placeholder_of(value);
      if (name.empty()) continue;
      if (std::find(known.begin(), known.end(), name) == known.end())
        throw InputError(
            fmt::format("workflow '{}': {} input '{}': unknown placeholder '{}' "
                        "(known: {})",
                        what, node_label(w.graph_, id), input, value.get<std::string>(),
                        fmt::join(known, ", ")));
      has_image = has_image || name == "image";
      w.slots_.push_back(Slot{id, input, name});
    }
    OutputNode out{id, cls, OutputKind::FileImage};
    if (cls == "SaveImageWebsocket") {
      out.kind = OutputKind::WebSocketImage;
    } else if (cls == "SaveLatent") {
      out.kind = OutputKind::Latent;
      if (!w.latent_output_) w.latent_output_ = out;
      continue;
    } else if (cls != "SaveImage" && cls != "PreviewImage") {
      continue;
    }
    // Prefer the WebSocket output: nothing piles up on the server's disk.
    if (w.image_output_.id.empty() || (out.kind == OutputKind::WebSocketImage &&
                                       w.image_output_.kind != OutputKind::WebSocketImage))
      w.image_output_ = out;
  }
  if (!has_image)
    throw InputError(
        fmt::format("workflow '{}': no input carries {{{{image}}}} (bind one with "
                    "comfy.bindings, e.g. image=10.image), so keyframe k could not "
                    "feed keyframe k+1",
                    what));
  if (w.image_output_.id.empty())
    throw InputError(
        fmt::format("workflow '{}': no SaveImageWebsocket, SaveImage or "
                    "PreviewImage node delivers the keyframe",
                    what));
  return w;
}

json Workflow::fill(const WorkflowValues& values) const {
  json g = graph_;
  for (const Slot& s : slots_) g[s.node]["inputs"][s.input] = value_for(s.placeholder, values);
  return g;
}

std::set<std::string> Workflow::classes() const {
  std::set<std::string> out;
  for (const auto& [id, node] : graph_.items()) out.insert(node["class_type"].get<std::string>());
  return out;
}

bool Workflow::is_sampling_node(const std::string& id) const {
  const auto it = graph_.find(id);
  return it != graph_.end() &&
         it->value("class_type", std::string()).find("Sampler") != std::string::npos;
}

std::map<std::string, std::vector<std::string>> Workflow::offered(const json& object_info) const {
  std::map<std::string, std::vector<std::string>> out;
  for (const Slot& s : slots_) {
    if (s.placeholder != "checkpoint" && s.placeholder != "sampler" && s.placeholder != "scheduler")
      continue;
    const std::string cls = graph_[s.node]["class_type"].get<std::string>();
    const auto info = object_info.find(cls);
    if (info == object_info.end() || !info->is_object() || !info->contains("input")) continue;
    const json& inputs = (*info)["input"];
    for (const char* group : {"required", "optional"}) {
      if (!inputs.contains(group) || !inputs[group].is_object() || !inputs[group].contains(s.input))
        continue;
      const json* options = combo_options(inputs[group][s.input]);
      if (!options || !options->is_array()) continue;
      std::vector<std::string>& names = out[s.placeholder];
      for (const json& o : *options)
        if (o.is_string() && names.size() < kMaxOffered)
          names.push_back(printable_text(o.get<std::string>(), 200));
    }
  }
  return out;
}

std::vector<std::string> Workflow::check(const json& object_info, const WorkflowValues& sample,
                                         std::vector<std::string>* warnings) const {
  std::vector<std::string> problems;
  const json g = fill(sample);
  for (const auto& [id, node] : g.items()) {
    const std::string cls = node["class_type"].get<std::string>();
    const std::string label = fmt::format("node {} ({})", id, cls);
    const auto info = object_info.find(cls);
    if (info == object_info.end() || !info->is_object() || !info->contains("input")) {
      problems.push_back(fmt::format("{}: class '{}' is not installed on the server", label, cls));
      continue;
    }
    const json& inputs = (*info)["input"];
    const auto spec_of = [&](const std::string& name) -> const json* {
      for (const char* group : {"required", "optional"})
        if (inputs.contains(group) && inputs[group].contains(name)) return &inputs[group][name];
      return nullptr;
    };
    if (inputs.contains("required"))
      for (const auto& [name, spec] : inputs["required"].items())
        if (!node["inputs"].contains(name))
          problems.push_back(fmt::format("{} input '{}': required input is missing", label, name));
    for (const auto& [name, value] : node["inputs"].items()) {
      const json* spec = spec_of(name);
      if (!spec) {  // ComfyUI ignores inputs it does not list
        if (warnings)
          warnings->push_back(
              fmt::format("{} input '{}': {} lists no such input (ignored)", label, name, cls));
        continue;
      }
      if (value.is_array()) {
        if (value.size() != 2 || !value[0].is_string() || !g.contains(value[0].get<std::string>()))
          problems.push_back(
              fmt::format("{} input '{}': the link {} points to no node of the "
                          "workflow",
                          label, name, brief(value)));
        continue;
      }
      // The input image is uploaded just before each prompt: the server cannot list it yet.
      const bool is_image_slot = std::any_of(slots_.begin(), slots_.end(), [&](const Slot& s) {
        return s.node == id && s.input == name && s.placeholder == "image";
      });
      if (is_image_slot) continue;
      if (const json* options = combo_options(*spec)) {
        if (std::find(options->begin(), options->end(), value) == options->end()) {
          std::vector<std::string> offered;
          for (const auto& o : *options)
            if (offered.size() < 8)
              offered.push_back(
                  printable_text(o.is_string() ? o.get<std::string>() : o.dump(), 60));
          problems.push_back(
              fmt::format("{} input '{}': {} is not offered by the server "
                          "(offered: {}{})",
                          label, name, brief(value), fmt::join(offered, ", "),
                          options->size() > offered.size() ? ", ..." : ""));
        }
        continue;
      }
      if (!spec->is_array() || spec->empty() || !(*spec)[0].is_string()) continue;
      const std::string type = (*spec)[0].get<std::string>();
      if (type != "INT" && type != "FLOAT") continue;
      if (!value.is_number() || (type == "INT" && !value.is_number_integer())) {
        problems.push_back(fmt::format("{} input '{}': {} is not {}", label, name, brief(value),
                                       type == "INT" ? "an integer" : "a number"));
        continue;
      }
      const json opts = spec->size() > 1 && (*spec)[1].is_object() ? (*spec)[1] : json::object();
      // Integers compare as integers: a uint64 seed near 2^64 must not round through a double.
      const auto compare = [&](const json& bound) {
        if (value.is_number_integer() && bound.is_number_integer()) {
          const Wide a = wide(value), b = wide(bound);
          return a < b ? -1 : (a > b ? 1 : 0);
        }
        const double a = value.get<double>(), b = bound.get<double>();
        return a < b ? -1 : (a > b ? 1 : 0);
      };
      const auto below = [&](const json& bound) { return compare(bound) < 0; };
      const auto above = [&](const json& bound) { return compare(bound) > 0; };
      if (opts.contains("min") && opts["min"].is_number() && below(opts["min"]))
        problems.push_back(fmt::format("{} input '{}': {} is below the minimum {}", label, name,
                                       brief(value), opts["min"].dump()));
      if (opts.contains("max") && opts["max"].is_number() && above(opts["max"]))
        problems.push_back(fmt::format("{} input '{}': {} is above the maximum {}", label, name,
                                       brief(value), opts["max"].dump()));
    }
  }
  return problems;
}

}  // namespace dw::comfy
