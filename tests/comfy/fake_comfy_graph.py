"""What the fake ComfyUI server (fake_comfy.py) offers and how it judges a prompt: its node
catalogue as /object_info answers it, and POST /prompt's validation with ComfyUI's error shapes
(400 with node_errors), against the files held in its input/ folder."""
from aiohttp import web

CHECKPOINTS = ["v1-5-pruned-emaonly.safetensors", "sd_xl_base_1.0.safetensors"]
SAMPLERS = ["euler", "euler_ancestral", "heun", "dpmpp_2m", "dpmpp_2m_sde", "lcm"]
SCHEDULERS = ["normal", "karras", "exponential", "sgm_uniform", "simple"]
UINT64_MAX = 0xFFFFFFFFFFFFFFFF


def node(inputs, outputs, output_node=False, optional=None):
    return {"input": {"required": inputs, "optional": optional or {}},
            "output": [o for o in outputs], "output_is_list": [False] * len(outputs),
            "output_name": list(outputs), "output_node": output_node,
            "category": "fake", "description": ""}


def object_info(input_files):
    images = sorted(n for (sub, n) in input_files if sub == "")
    return {
        "CheckpointLoaderSimple": node({"ckpt_name": [CHECKPOINTS]}, ["MODEL", "CLIP", "VAE"]),
        "CLIPTextEncode": node({"text": ["STRING", {"multiline": True}], "clip": ["CLIP"]},
                               ["CONDITIONING"]),
        "LoadImage": node({"image": [images, {"image_upload": True}]}, ["IMAGE", "MASK"]),
        "ImageScale": node({"image": ["IMAGE"],
                            "upscale_method": [["nearest-exact", "bilinear", "area", "bicubic",
                                                "lanczos"]],
                            "width": ["INT", {"default": 512, "min": 0, "max": 16384}],
                            "height": ["INT", {"default": 512, "min": 0, "max": 16384}],
                            "crop": [["disabled", "center"]]}, ["IMAGE"]),
        "VAEEncode": node({"pixels": ["IMAGE"], "vae": ["VAE"]}, ["LATENT"]),
        "VAEDecode": node({"samples": ["LATENT"], "vae": ["VAE"]}, ["IMAGE"]),
        "EmptyLatentImage": node({"width": ["INT", {"min": 16, "max": 16384}],
                                  "height": ["INT", {"min": 16, "max": 16384}],
                                  "batch_size": ["INT", {"min": 1, "max": 4096}]}, ["LATENT"]),
        "KSampler": node({"model": ["MODEL"],
                          "seed": ["INT", {"default": 0, "min": 0, "max": UINT64_MAX}],
                          "steps": ["INT", {"default": 20, "min": 1, "max": 10000}],
                          "cfg": ["FLOAT", {"default": 8.0, "min": 0.0, "max": 100.0}],
                          "sampler_name": [SAMPLERS], "scheduler": [SCHEDULERS],
                          "positive": ["CONDITIONING"], "negative": ["CONDITIONING"],
                          "latent_image": ["LATENT"],
                          "denoise": ["FLOAT", {"default": 1.0, "min": 0.0, "max": 1.0}]},
                         ["LATENT"]),
        "SaveImage": node({"images": ["IMAGE"], "filename_prefix": ["STRING"]}, [], True),
        "PreviewImage": node({"images": ["IMAGE"]}, [], True),
        "SaveImageWebsocket": node({"images": ["IMAGE"]}, [], True),
        "SaveLatent": node({"samples": ["LATENT"], "filename_prefix": ["STRING"]}, [], True),
    }


def api_error(status, etype, message, details="", node_errors=None):
    return web.json_response({"error": {"type": etype, "message": message, "details": details,
                                        "extra_info": {}}, "node_errors": node_errors or {}},
                             status=status)


def input_spec(info, name):
    for group in ("required", "optional"):
        spec = info["input"].get(group, {}).get(name)
        if spec is not None:
            return spec
    return None


def validate(graph, input_files):
    """ComfyUI's validate_prompt, for the node classes above: (error response | None)."""
    infos = object_info(input_files)
    for nid, n in graph.items():
        if not isinstance(n, dict) or "class_type" not in n:
            return api_error(400, "invalid_prompt",
                             "Cannot execute because a node is missing the class_type property.",
                             f"Node ID '#{nid}'")
        if n["class_type"] not in infos:
            return api_error(400, "invalid_prompt",
                             f"Cannot execute because node {n['class_type']} does not exist.",
                             f"Node ID '#{nid}'")
    outputs = [nid for nid, n in graph.items() if infos[n["class_type"]]["output_node"]]
    if not outputs:
        return api_error(400, "prompt_no_outputs", "Prompt has no outputs")
    node_errors = {}
    for nid, n in graph.items():
        info = infos[n["class_type"]]
        errors = []

        def err(etype, message, name, details=""):
            errors.append({"type": etype, "message": message, "details": details,
                           "extra_info": {"input_name": name}})

        inputs = n.get("inputs", {})
        for name, spec in info["input"]["required"].items():
            if name not in inputs:
                err("required_input_missing", "Required input is missing", name,
                    f"{name}")
        for name, value in inputs.items():
            spec = input_spec(info, name)
            if spec is None:
                continue  # ComfyUI ignores unknown inputs
            kind = spec[0]
            opts = spec[1] if len(spec) > 1 else {}
            if isinstance(value, list):
                if len(value) != 2 or str(value[0]) not in graph:
                    err("bad_linked_input", "Bad linked input, must be a length-2 list of "
                        "[string, int]", name, f"{name}, {value}")
                continue
            if n["class_type"] == "LoadImage" and name == "image":
                if (("", value) not in input_files):
                    err("custom_validation_failed", "Custom validation failed for node", name,
                        f"image - Invalid image file: {value}")
                continue
            if isinstance(kind, list):
                if value not in kind:
                    err("value_not_in_list", "Value not in list", name,
                        f"{name}: '{value}' not in {kind}")
            elif kind in ("INT", "FLOAT"):
                if isinstance(value, bool) or not isinstance(value, (int, float)) or (
                        kind == "INT" and not isinstance(value, int)):
                    err("invalid_input_type", "Failed to convert an input value to a "
                        f"{kind} value", name, f"{name}, {value}")
                elif "min" in opts and value < opts["min"]:
                    err("value_smaller_than_min", f"Value {value} smaller than min of "
                        f"{opts['min']}", name, f"{name}")
                elif "max" in opts and value > opts["max"]:
                    err("value_bigger_than_max", f"Value {value} bigger than max of "
                        f"{opts['max']}", name, f"{name}")
        if errors:
            node_errors[nid] = {"errors": errors, "dependent_outputs": outputs,
                                "class_type": n["class_type"]}
    if node_errors:
        return api_error(400, "prompt_outputs_failed_validation",
                         "Prompt outputs failed validation", "", node_errors)
    return None


def topo_order(graph):
    order, seen = [], set()

    def visit(nid):
        if nid in seen:
            return
        seen.add(nid)
        for value in graph[nid].get("inputs", {}).values():
            if isinstance(value, list) and len(value) == 2 and str(value[0]) in graph:
                visit(str(value[0]))
        order.append(nid)

    for nid in sorted(graph, key=lambda s: (len(s), s)):
        visit(nid)
    return order
