#!/usr/bin/env python3
"""Makes (once) a random-weight checkpoint with Stable Diffusion 1.5's exact structure, so the
shipped sd15_img2img workflow runs for real on the test ComfyUI (the pictures are noise).

Deterministic: fixed seeds, fixed package versions (tools/comfyui_requirements.txt). Cached under
${XDG_CACHE_HOME:-~/.cache}/dreamwindow/checkpoints/; prints the checkpoint's path (last line).
A fresh build takes ~5 min and ~4 GB of disk on the 2-core machine:
  1. diffusers UNet2DConditionModel + AutoencoderKL and transformers CLIPTextModel (ViT-L/14 text)
     with SD1.5's configuration, seeded, saved as fp16 safetensors;
  2. the real ComfyUI loads them (UNETLoader, CLIPLoader, VAELoader) and CheckpointSave writes the
     single-file checkpoint in ComfyUI's own layout.

    tools/comfyui_checkpoint.py            build if needed, print the path
    tools/comfyui_checkpoint.py --check    print the path if built, else exit 3
"""
import argparse
import os
import shutil
import subprocess
import sys
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import comfyui_server  # noqa: E402

NAME = "dw_random_sd15_v1.safetensors"  # bump the version when the recipe changes


def checkpoint_path():
    return os.path.join(comfyui_server.cache_dir(), "checkpoints", NAME)


def make_parts(out):
    """Runs inside the ComfyUI venv (this file, --parts OUT): writes unet/clip/vae safetensors."""
    import torch
    from diffusers import AutoencoderKL, UNet2DConditionModel
    from safetensors.torch import save_file
    from transformers import CLIPTextConfig, CLIPTextModel

    def save(model, path, prefix=""):
        sd = {prefix + k: v.to(torch.float16).contiguous() for k, v in model.state_dict().items()}
        save_file(sd, path)

    torch.manual_seed(1515)
    unet = UNet2DConditionModel(
        sample_size=64, in_channels=4, out_channels=4, layers_per_block=2,
        block_out_channels=(320, 640, 1280, 1280), cross_attention_dim=768, attention_head_dim=8,
        down_block_types=("CrossAttnDownBlock2D",) * 3 + ("DownBlock2D",),
        up_block_types=("UpBlock2D",) + ("CrossAttnUpBlock2D",) * 3)
    save(unet, os.path.join(out, "unet.safetensors"))
    del unet
    torch.manual_seed(1516)
    vae = AutoencoderKL(in_channels=3, out_channels=3, latent_channels=4, layers_per_block=2,
                        block_out_channels=(128, 256, 512, 512),
                        down_block_types=("DownEncoderBlock2D",) * 4,
                        up_block_types=("UpDecoderBlock2D",) * 4, sample_size=512)
    save(vae, os.path.join(out, "vae.safetensors"))
    del vae
    torch.manual_seed(1517)
    clip = CLIPTextModel(CLIPTextConfig(
        vocab_size=49408, hidden_size=768, intermediate_size=3072, num_hidden_layers=12,
        num_attention_heads=12, max_position_embeddings=77, hidden_act="quick_gelu",
        projection_dim=768))
    keys = clip.state_dict()
    # ComfyUI's CLIPLoader expects the "text_model." prefix (newer transformers leave it out).
    prefix = "" if all(k.startswith("text_model.") for k in keys) else "text_model."
    save(clip, os.path.join(out, "clip.safetensors"), prefix)


def build(python):
    cache = os.path.dirname(checkpoint_path())
    os.makedirs(cache, exist_ok=True)
    start = time.monotonic()
    server = comfyui_server.ComfyServer(python)
    try:
        models = os.path.join(server.base, "models")
        for sub in ("unet", "text_encoders", "vae"):
            os.makedirs(os.path.join(models, sub), exist_ok=True)
        parts = os.path.join(server.base, "parts")
        os.makedirs(parts)
        print("comfyui_checkpoint: building SD1.5-shaped random weights", file=sys.stderr)
        subprocess.run([python, os.path.abspath(__file__), "--parts", parts], check=True)
        for f, sub in (("unet", "unet"), ("clip", "text_encoders"), ("vae", "vae")):
            os.replace(os.path.join(parts, f + ".safetensors"),
                       os.path.join(models, sub, f"dw_random_{f}.safetensors"))
        server.start()
        graph = {
            "1": {"class_type": "UNETLoader",
                  "inputs": {"unet_name": "dw_random_unet.safetensors", "weight_dtype": "default"}},
            "2": {"class_type": "CLIPLoader",
                  "inputs": {"clip_name": "dw_random_clip.safetensors", "type": "stable_diffusion"}},
            "3": {"class_type": "VAELoader", "inputs": {"vae_name": "dw_random_vae.safetensors"}},
            "4": {"class_type": "CheckpointSave",
                  "inputs": {"model": ["1", 0], "clip": ["2", 0], "vae": ["3", 0],
                             "filename_prefix": "checkpoints/dw_random_sd15"}},
        }
        pid = str(uuid.uuid4())
        server.post("/prompt", {"prompt": graph, "client_id": "dw-checkpoint", "prompt_id": pid})
        print("comfyui_checkpoint: ComfyUI is saving the checkpoint", file=sys.stderr)
        deadline = time.monotonic() + 1800
        while time.monotonic() < deadline:
            try:  # ComfyUI answers slowly while it writes 4 GB
                h = server.get(f"/history/{pid}", timeout=60).get(pid)
            except (OSError, ValueError):
                h = None
            if h and h.get("status", {}).get("completed") is not None:
                if h["status"].get("status_str") != "success":
                    sys.exit(f"comfyui_checkpoint: CheckpointSave failed: {h['status']}\n"
                             f"{server.log_tail()}")
                break
            if server.proc.poll() is not None:
                sys.exit(f"comfyui_checkpoint: ComfyUI died:\n{server.log_tail()}")
            time.sleep(1)
        else:
            sys.exit("comfyui_checkpoint: CheckpointSave did not finish in 30 min")
        made = [f for f in server.files("output") if f.endswith(".safetensors")]
        if len(made) != 1:
            sys.exit(f"comfyui_checkpoint: expected one checkpoint in output/, found {made}")
        tmp = checkpoint_path() + f".part{os.getpid()}"
        shutil.move(made[0], tmp)
        os.replace(tmp, checkpoint_path())
    finally:
        server.close()
    print(f"comfyui_checkpoint: built in {time.monotonic() - start:.0f} s", file=sys.stderr)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--check", action="store_true")
    ap.add_argument("--parts", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.parts:
        return make_parts(a.parts)
    if not os.path.exists(checkpoint_path()):
        if a.check:
            print(f"comfyui_checkpoint: not built yet ({checkpoint_path()})", file=sys.stderr)
            sys.exit(3)
        import fcntl
        os.makedirs(os.path.dirname(checkpoint_path()), exist_ok=True)
        with open(checkpoint_path() + ".lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not os.path.exists(checkpoint_path()):
                python = comfyui_server.venv_python(build=True)
                if not python:
                    sys.exit("comfyui_checkpoint: no ComfyUI venv (tools/comfyui_env.sh failed)")
                build(python)
    print(checkpoint_path())


if __name__ == "__main__":
    main()
