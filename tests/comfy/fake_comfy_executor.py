"""The executor of the fake ComfyUI server (fake_comfy.py): the worker that takes queued prompts
and runs them (their "generation", the faults that act while a prompt runs, the cache of an
identical graph, the history entry), and the WebSocket messages and image frames a prompt sends
its client (status, progress, executed, SaveImageWebsocket frames)."""
import asyncio
import hashlib
import io
import json
import struct
import time

import numpy as np
from PIL import Image

from fake_comfy_faults import FAULT, collapsed_image, degenerate
from fake_comfy_graph import topo_order
from fake_comfy_hostile import hostile_send


def png_bytes(array):
    out = io.BytesIO()
    Image.fromarray(array).save(out, format="PNG", compress_level=1)
    return out.getvalue()


def latent_safetensors(array):
    """A SaveLatent file: latent_tensor [1, 4, h/8, w/8] fp32 (the image's mean per 8x8 block,
    first three channels scaled to -1..1, fourth 0) and the empty version marker."""
    h, w = array.shape[0] // 8, array.shape[1] // 8
    blocks = array[:h * 8, :w * 8, :3].astype(np.float32).reshape(h, 8, w, 8, 3).mean(axis=(1, 3))
    lat = np.zeros((1, 4, h, w), dtype=np.float32)
    lat[0, :3] = np.moveaxis(blocks / 127.5 - 1.0, 2, 0)
    data = lat.tobytes()
    header = {"latent_tensor": {"dtype": "F32", "shape": list(lat.shape), "data_offsets": [0, len(data)]},
              "latent_format_version_0": {"dtype": "F32", "shape": [0], "data_offsets": [len(data), len(data)]}}
    h_bytes = json.dumps(header).encode()
    h_bytes += b" " * ((8 - len(h_bytes) % 8) % 8)
    return struct.pack("<Q", len(h_bytes)) + h_bytes + data


class Interrupted(Exception):
    def __init__(self, nid):
        self.nid = nid


class ExecutionFailed(Exception):
    def __init__(self, nid, message):
        self.nid, self.message = nid, message


async def send(state, cid, etype, data):
    await send_bytes(state, cid, json.dumps({"type": etype, "data": data}).encode(), text=True)


async def send_bytes(state, cid, payload, text=False):
    ws = state.sockets.get(cid)
    if ws is not None and not ws.closed:
        try:
            if await hostile_send(ws, payload, binary=not text):
                return
            if text:
                await ws.send_str(payload.decode())
            else:
                await ws.send_bytes(payload)
        except (ConnectionError, RuntimeError):
            pass


async def execute(state, item):
    number, pid, graph, extra, _outputs = item
    cid = extra.get("client_id")
    messages = []
    behind = None  # under the backlog fault: the messages held back, in order

    async def emit(etype, data):
        if etype in ("execution_start", "execution_cached", "execution_success",
                     "execution_error", "execution_interrupted"):
            messages.append([etype, dict(data, timestamp=int(time.time() * 1000))])
        if behind is not None:
            behind.append(lambda: send(state, cid, etype, data))
        else:
            await send(state, cid, etype, data)

    await broadcast_status(state)  # as ComfyUI: the queue changed (taken by the worker)
    await emit("execution_start", {"prompt_id": pid, "timestamp": int(time.time() * 1000)})
    if FAULT.drop_socket > 0:
        FAULT.drop_socket -= 1
        ws = state.sockets.pop(cid, None)
        if ws is not None:
            await ws.close()
    fail = FAULT.execution_error > 0
    if fail:
        FAULT.execution_error -= 1
    order = topo_order(graph)
    values = {}
    sigs = {}
    for nid in order:
        n = graph[nid]
        parts = [n["class_type"]]
        for name, value in sorted(n.get("inputs", {}).items()):
            if isinstance(value, list):
                parts.append(f"{name}=@{sigs[str(value[0])]}:{value[1]}")
            else:
                parts.append(f"{name}={json.dumps(value)}")
        if n["class_type"] == "LoadImage":
            blob = state.files["input"].get(("", n["inputs"]["image"]), b"")
            parts.append(hashlib.sha1(blob).hexdigest())
        sigs[nid] = hashlib.sha1("|".join(parts).encode()).hexdigest()
    cached = [nid for nid in order if sigs[nid] in state.cache
              and graph[nid]["class_type"] != "SaveImageWebsocket"]
    await emit("execution_cached", {"nodes": cached, "prompt_id": pid,
                                    "timestamp": int(time.time() * 1000)})
    outputs = {}
    new_cache = {}
    per_node_delay = FAULT.latency / max(1, len(order) - len(cached))
    failing = next((nid for nid in order if graph[nid]["class_type"] == "KSampler"), order[-1])
    try:
        for nid in order:
            n = graph[nid]
            cls = n["class_type"]
            if nid in cached:
                values[nid], ui = state.cache[sigs[nid]]
                new_cache[sigs[nid]] = (values[nid], ui)
                if ui:
                    outputs[nid] = ui
                    # ComfyUI repeats a cached output node's "executed" with its old output.
                    await emit("executed", {"node": nid, "display_node": nid, "output": ui,
                                            "prompt_id": pid})
                continue
            if state.interrupt_flag:
                raise Interrupted(nid)
            await emit("executing", {"node": nid, "display_node": nid, "prompt_id": pid})
            if per_node_delay > 0:
                await asyncio.sleep(per_node_delay)
            if fail and nid == failing:
                raise ExecutionFailed(nid, "CUDA out of memory (fault injected)")
            args = {}
            for name, value in n.get("inputs", {}).items():
                args[name] = values[str(value[0])] if isinstance(value, list) else value
            ui = None
            if cls == "LoadImage":
                blob = state.files["input"][("", args["image"])]
                img = np.asarray(Image.open(io.BytesIO(blob)).convert("RGB"))
                values[nid] = img
            elif cls == "ImageScale":
                img = Image.fromarray(args["image"]).resize((args["width"], args["height"]),
                                                            Image.BILINEAR)
                values[nid] = np.asarray(img)
            elif cls == "VAEEncode":
                values[nid] = args["pixels"]
            elif cls == "EmptyLatentImage":
                values[nid] = np.zeros((args["height"], args["width"], 3), dtype=np.uint8)
            elif cls == "KSampler":
                state.stats["last_seed"] = str(args["seed"])
                state.stats["last_sampler"] = {"steps": args["steps"], "cfg": args["cfg"],
                                               "denoise": args["denoise"],
                                               "sampler_name": args["sampler_name"]}
                steps = args["steps"]
                if FAULT.stall > 0:
                    FAULT.stall -= 1
                    while not state.interrupt_flag:
                        await asyncio.sleep(0.05)
                for i in range(steps):
                    if state.interrupt_flag:
                        raise Interrupted(nid)
                    if FAULT.step_delay > 0:
                        await asyncio.sleep(FAULT.step_delay)
                    await emit("progress", {"value": i + 1, "max": steps, "prompt_id": pid,
                                            "node": nid})
                if FAULT.collapse != 0:
                    # A collapsed feedback loop: the same picture whatever the input.
                    FAULT.collapse -= 1 if FAULT.collapse > 0 else 0
                    values[nid] = collapsed_image(args["latent_image"].shape)
                else:
                    values[nid] = 255 - args["latent_image"]
                values[nid] = degenerate(values[nid])
            elif cls == "VAEDecode":
                values[nid] = args["samples"]
            elif cls == "SaveImageWebsocket":
                if FAULT.backlog > 0:
                    FAULT.backlog -= 1
                    behind = []
                # Its own progress bar, as ComfyUI's node reports it: not the sampler's progress.
                await emit("progress", {"value": 1, "max": 1, "prompt_id": pid, "node": nid})
                frame = struct.pack(">II", 1, 2) + png_bytes(args["images"])
                if behind is not None:
                    behind.append(lambda frame=frame: send_bytes(state, cid, frame))
                else:
                    await send_bytes(state, cid, frame)
            elif cls in ("SaveImage", "PreviewImage"):
                kind = "output" if cls == "SaveImage" else "temp"
                prefix = args.get("filename_prefix", "ComfyUI")
                state.saved += 1
                name = f"{prefix}_{state.saved:05}_.png"
                state.files[kind][("", name)] = png_bytes(args["images"])
                ui = {"images": [{"filename": name, "subfolder": "", "type": kind}]}
            elif cls == "SaveLatent":
                state.saved += 1
                name = f"{args.get('filename_prefix', 'latents')}_{state.saved:05}_.latent"
                state.files["output"][("", name)] = latent_safetensors(args["samples"])
                ui = {"latents": [{"filename": name, "subfolder": "", "type": "output"}]}
            else:
                values[nid] = None
            if ui:
                outputs[nid] = ui
                await emit("executed", {"node": nid, "display_node": nid, "output": ui,
                                        "prompt_id": pid})
            new_cache[sigs[nid]] = (values.get(nid), ui)
        await emit("execution_success", {"prompt_id": pid, "timestamp": int(time.time() * 1000)})
        status = {"status_str": "success", "completed": True, "messages": messages}
        state.stats["prompts_succeeded"] += 1
        state.cache = new_cache
    except Interrupted as e:
        await emit("execution_interrupted", {"prompt_id": pid, "node_id": e.nid,
                                             "node_type": graph[e.nid]["class_type"],
                                             "executed": []})
        status = {"status_str": "error", "completed": False, "messages": messages}
    except ExecutionFailed as e:
        await emit("execution_error", {"prompt_id": pid, "node_id": e.nid,
                                       "node_type": graph[e.nid]["class_type"], "executed": [],
                                       "exception_message": e.message,
                                       "exception_type": "torch.OutOfMemoryError",
                                       "traceback": ["(fake)"], "current_inputs": {},
                                       "current_outputs": {}})
        status = {"status_str": "error", "completed": False, "messages": messages}
    state.interrupt_flag = False
    state.stats["prompts_executed"] += 1
    # The history entry is written before the final "executing" message, never after.
    state.history[pid] = {"prompt": [number, pid, graph, extra, list(outputs)],
                          "outputs": outputs, "status": status, "meta": {}}
    # As ComfyUI: the queue count without this prompt, then the end (no display_node there).
    state.running = None
    await broadcast_status(state)
    if behind is not None:
        behind.append(lambda: send(state, cid, "executing", {"node": None, "prompt_id": pid}))
        asyncio.get_running_loop().create_task(send_behind(state, cid, behind, FAULT.backlog_s))
    else:
        await send(state, cid, "executing", {"node": None, "prompt_id": pid})


async def send_behind(state, cid, behind, seconds):
    """The backlog fault: other messages for `seconds`, then the ones held back, in order."""
    until = time.monotonic() + seconds
    while time.monotonic() < until:
        await send(state, cid, "progress", {"value": 1, "max": 2, "prompt_id": "someone-else"})
        await asyncio.sleep(0.05)
    for message in behind:
        await message()


async def broadcast_status(state):
    remaining = len(state.pending) + (1 if state.running else 0)
    for cid in list(state.sockets):
        await send(state, cid, "status", {"status": {"exec_info": {"queue_remaining": remaining}}})


async def worker(state):
    while True:
        while not state.pending:
            state.wakeup.clear()
            await state.wakeup.wait()
        item = state.pending.pop(0)
        state.running = item
        try:
            await execute(state, item)
        finally:
            state.running = None
