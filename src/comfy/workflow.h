// Workflow templates: ComfyUI API-format graphs whose inputs carry named placeholders
// ("{{seed}}" as the whole value of an input), filled per keyframe with typed values. A user's
// own exported workflow needs no placeholders: comfy.bindings maps each name to a node input
// ("seed=3.seed"). Before the first run the graph is checked against the server's /object_info,
// and every problem names the node id, its class and the input.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

namespace dw::comfy {

// The values a keyframe request fills in. Every placeholder name is a field here.
struct WorkflowValues {
  std::string image;  // the uploaded input image's name on the server
  std::string positive;
  std::string negative;
  std::uint64_t seed = 0;
  int steps = 10;
  double cfg = 6.0;
  double denoise = 0.2;
  std::string sampler = "euler";
  std::string scheduler = "karras";
  std::string checkpoint;
  int width = 512;
  int height = 512;
};

enum class OutputKind {
  WebSocketImage,  // SaveImageWebsocket: binary frames, nothing on the server's disk
  FileImage,       // SaveImage / PreviewImage: history outputs "images", fetched by /view
  Latent,          // SaveLatent: history outputs "latents" (a safetensors file), by /view
};

struct OutputNode {
  std::string id;
  std::string class_type;
  OutputKind kind = OutputKind::FileImage;
};

class Workflow {
 public:
  // `name_or_path`: a template name in assets/workflows ("sd15_img2img") or a JSON file path.
  // Throws dw::InputError naming the file, node and input of any problem.
  static Workflow load(const std::string& name_or_path, const std::vector<std::string>& bindings);
  static Workflow from_json(const nlohmann::json& graph, const std::string& what,
                            const std::vector<std::string>& bindings);

  // The filled graph (API format), ready to go into POST /prompt's "prompt".
  nlohmann::json fill(const WorkflowValues& values) const;
  const std::string& what() const { return what_; }
  // The node that delivers the keyframe image, and the SaveLatent node when there is one.
  const OutputNode& image_output() const { return image_output_; }
  const OutputNode* latent_output() const { return latent_output_ ? &*latent_output_ : nullptr; }
  std::set<std::string> classes() const;

  // The nodes whose `progress` is the sampler's (class names with "Sampler" in them: KSampler,
  // KSamplerAdvanced, SamplerCustom...); the output nodes' own progress bars are not.
  bool is_sampling_node(const std::string& id) const;

  // Checks the graph filled with `sample` against /object_info (class name -> node info):
  // classes installed, required inputs present, links to existing nodes, combo values offered
  // (the checkpoint), numbers in range: what the server itself refuses. One line per problem;
  // empty when valid. An input the server does not list (an older export's `"upload": "image"` on
  // LoadImage) is accepted by ComfyUI and ignored: it goes to `warnings` instead.
  std::vector<std::string> check(const nlohmann::json& object_info, const WorkflowValues& sample,
                                 std::vector<std::string>* warnings = nullptr) const;
  // The server's own choices for the placeholders that are combos there ("checkpoint",
  // "sampler", "scheduler" -> the names /object_info offers for the input they fill), so the
  // overlay and the remote offer exactly those. Names are made printable; at most kMaxOffered each.
  std::map<std::string, std::vector<std::string>> offered(const nlohmann::json& object_info) const;
  static constexpr std::size_t kMaxOffered = 512;

 private:
  struct Slot {
    std::string node;
    std::string input;
    std::string placeholder;
  };
  nlohmann::json graph_;
  std::string what_;
  std::vector<Slot> slots_;
  OutputNode image_output_;
  std::optional<OutputNode> latent_output_;
};

// The placeholder names a template or binding may use.
const std::vector<std::string>& placeholder_names();

}  // namespace dw::comfy
