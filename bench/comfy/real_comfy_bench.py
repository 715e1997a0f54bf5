#!/usr/bin/env python3
"""Keyframe round trip against the real ComfyUI (../shared/comfyui) with a model-free workflow
(LoadImage -> ImageScale -> ImageInvert -> SaveImageWebsocket): runs bench_comfy_real against a
fresh server and puts ComfyUI's own execution time per prompt (execution_start to
execution_success in /history) next to the client's round trip and CPU time per keyframe.

    bench/comfy/real_comfy_bench.py BUILD_DIR/bench/comfy/bench_comfy_real [keyframes=40] [size=512]
"""
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "comfy", "real"))
import realcomfy as rc  # noqa: E402
from comfyui_server import ComfyServer  # noqa: E402


def main():
    exe = sys.argv[1]
    keyframes = sys.argv[2] if len(sys.argv) > 2 else "40"
    size = sys.argv[3] if len(sys.argv) > 3 else "512"
    python = rc.require_comfyui()
    with ComfyServer(python) as server, tempfile.TemporaryDirectory() as d:
        server.start()
        wf = rc.write_graph(d, "bench", rc.image_graph("SaveImageWebsocket"))
        out = subprocess.run([exe, server.url, wf, keyframes, size], capture_output=True,
                             text=True, check=True).stdout
        runs = []
        for h in rc.history(server).values():
            ts = {m[0]: m[1].get("timestamp") for m in h["status"]["messages"]}
            if "execution_start" in ts and "execution_success" in ts:
                runs.append((h["prompt"][0], ts["execution_success"] - ts["execution_start"]))
        runs = [ms for _, ms in sorted(runs)][3:]  # as the client: warm-up prompts left out
        runs.sort()
        print(out, end="")
        print(f"comfyui_execution_ms mean {sum(runs) / len(runs):.1f} p50 {runs[len(runs) // 2]:.1f} "
              f"max {runs[-1]:.1f} (n={len(runs)})")
        print(json.dumps(server.get("/system_stats")["system"].get("comfyui_version")))


if __name__ == "__main__":
    main()
