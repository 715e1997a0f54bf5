"""Test-only ComfyUI node for tests/comfy/real: a model-free stand-in for a slow sampler.

DreamwindowSlowPass passes its image through after `seconds`, reporting progress `steps` times on
the way (the same `progress` messages a KSampler sends per step), so a test can have a real
ComfyUI that needs ~30 s per keyframe, or stays busy with another client's long prompt, without
model weights and independent of the machine's speed. Loaded from the scratch base directory's
custom_nodes/ by tools/comfyui_server.py; never part of the product.
"""
import time

import comfy.utils


class DreamwindowSlowPass:
    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {
            "images": ("IMAGE",),
            "seconds": ("FLOAT", {"default": 30.0, "min": 0.0, "max": 3600.0, "step": 0.1}),
            "steps": ("INT", {"default": 10, "min": 1, "max": 10000}),
            "seed": ("INT", {"default": 0, "min": 0, "max": 0xffffffffffffffff}),
        }}

    RETURN_TYPES = ("IMAGE",)
    FUNCTION = "run"
    CATEGORY = "testing"

    def run(self, images, seconds, steps, seed):
        bar = comfy.utils.ProgressBar(steps)
        for _ in range(steps):
            time.sleep(seconds / steps)
            bar.update(1)
        return (images,)


NODE_CLASS_MAPPINGS = {"DreamwindowSlowPass": DreamwindowSlowPass}
