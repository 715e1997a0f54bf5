#!/usr/bin/env python3
"""A fake ComfyUI server for dreamwindow's tests and benchmarks.

It speaks the protocol in shared/design/COMFYUI_API.md: the same routes (also under /api), status
codes, JSON shapes and WebSocket message order as ComfyUI, validation with 400 node_errors,
execution_error, cached executions of an identical graph, SaveImageWebsocket binary frames and
upload renaming on a name clash. Its "generation" is deterministic: the image that reaches a
VAEDecode is the LoadImage input with its RGB inverted (255 - v), scaled by an ImageScale when the
graph has one, so a test can check what came back.

Faults on demand: POST /_control/fault {"kind": ..., "count": n, "seconds": s}
  latency         every prompt takes `seconds` longer (0 turns it off)
  http500         the next `count` API requests answer 500
  drop_socket     during the next `count` prompts the WebSocket is closed right after
                  execution_start (the prompt still finishes and its history is written)
  hang            the next `count` POST /prompt requests never answer
  unanswered      the next `count` POST /prompt requests queue their prompt but never answer (the
                  answer lost on the way): the prompt runs with nobody waiting for it
  execution_error the next `count` prompts fail in their KSampler (or last node)
  collapse        the next `count` prompts (all of them when negative) return one fixed image
                  whatever their input: a feedback loop collapsed into sameness
  fry             the next `count` prompts (all when negative) return their image with contrast and
                  chroma pushed up 20%: through the feedback loop values climb until they clip
  noise           the next `count` prompts (all when negative) return their image with pixel noise
                  added: through the feedback loop it accumulates until noise is all there is
  rename          the next `count` uploads are stored under a new name even with overwrite, as
                  when the name is taken (the client must use the name in the answer)
  step_delay      every sampler step takes `seconds` (with a `progress` message after each), as a
                  slow GPU or CPU does (0 turns it off)
  stall           the next `count` prompts go silent in their KSampler (no message at all) until
                  they are interrupted, as a hung node does
  backlog         for the next `count` prompts the client is `seconds` behind on its WebSocket:
                  the image frame and every message after it arrive that much after /history
                  shows the prompt finished, other messages (another prompt's progress) arriving
                  all the while, as on a socket with a backlog of previews
  restart         the server goes away (all sockets closed, all state lost) and listens again on
                  the same port after `seconds`
  forget_sockets  the server forgets every socket while they stay open (answering pings), as
                  ComfyUI does when an older connection with the same client id ends late:
                  nothing is sent to them again until the client connects anew
POST /_control/hostile {"kind": ...} makes it a hostile server (see the hostile mode section).
GET /_control/stats answers counters and the files held in input/, output/ and temp/.

Usage: fake_comfy.py [--host 127.0.0.1] [--port 0]; prints "PORT <n>" once it listens.
"""
import argparse
import asyncio
import hashlib
import io
import json
import struct
import sys
import time
import uuid

import numpy as np
from aiohttp import WSMsgType, web
from PIL import Image

from fake_comfy_faults import FAULT, collapsed_image, degenerate
from fake_comfy_graph import api_error, object_info, topo_order, validate
from fake_comfy_hostile import (HOSTILE, HOSTILE_KINDS, control_hostile, hostile_middleware,
                                hostile_send)


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


class State:
    def __init__(self):
        self.files = {"input": {}, "output": {}, "temp": {}}  # type -> {(subfolder, name): bytes}
        self.history = {}
        self.pending = []        # queued prompts, FIFO
        self.running = None
        self.number = 0
        self.saved = 0           # files written by SaveImage / SaveLatent (their names count up)
        self.sockets = {}        # client id -> WebSocketResponse
        self.cache = {}          # node signature -> outputs of the previous prompt
        self.interrupt_flag = False
        self.wakeup = asyncio.Event()
        self.restart_after = None
        self.stopped = asyncio.Event()
        self.stats = {"prompts_received": 0, "prompts_executed": 0, "uploads": 0, "posts_hung": 0,
                      "posts_unanswered": 0, "prompts_succeeded": 0,
                      "interrupts": 0, "queue_deletes": 0, "ws_connects": 0,
                      "history_requests": 0, "queue_requests": 0, "history_deletes": 0,
                      "last_seed": None, "rejected": 0}



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


def make_app(state):
    app = web.Application(client_max_size=100 * 1024 * 1024,
                          middlewares=[fault_middleware(state), hostile_middleware(state)])
    routes = [
        ("GET", "/ws", ws_handler), ("GET", "/system_stats", system_stats),
        ("GET", "/object_info", object_info_all), ("GET", "/object_info/{cls}", object_info_one),
        ("POST", "/prompt", post_prompt), ("GET", "/history/{pid}", get_history),
        ("GET", "/history", get_history_all), ("POST", "/history", post_history),
        ("GET", "/view", view),
        ("POST", "/upload/image", upload), ("GET", "/queue", get_queue),
        ("POST", "/queue", post_queue), ("POST", "/interrupt", interrupt),
        ("POST", "/free", free),
    ]
    for method, path, handler in routes:
        for prefix in ("", "/api"):
            app.router.add_route(method, prefix + path, handler)
    app.router.add_post("/_control/fault", control_fault)
    app.router.add_get("/_control/stats", control_stats)
    app.router.add_post("/_control/hostile", control_hostile)
    app["state"] = state
    return app


def fault_middleware(state):
    @web.middleware
    async def middleware(request, handler):
        origin = request.headers.get("Origin")
        if origin is not None and origin.split("://", 1)[-1] != request.host:
            return web.Response(status=403)
        path = request.path
        if not path.startswith("/_control") and not path.endswith("/ws") and FAULT.http500 > 0:
            FAULT.http500 -= 1
            return web.Response(status=500, text="500 Internal Server Error (fault injected)")
        return await handler(request)
    return middleware


async def ws_handler(request):
    state = request.app["state"]
    ws = web.WebSocketResponse(max_msg_size=0)
    await ws.prepare(request)
    cid = request.query.get("clientId") or uuid.uuid4().hex
    state.sockets[cid] = ws
    state.stats["ws_connects"] += 1
    remaining = len(state.pending) + (1 if state.running else 0)
    await ws.send_str(json.dumps({"type": "status", "data": {
        "status": {"exec_info": {"queue_remaining": remaining}}, "sid": cid}}))
    try:
        async for msg in ws:
            if msg.type == WSMsgType.TEXT:
                pass  # feature_flags and the like: accepted and ignored
            elif msg.type == WSMsgType.ERROR:
                break
    finally:
        if state.sockets.get(cid) is ws:
            del state.sockets[cid]
    return ws


async def system_stats(request):
    return web.json_response({
        "system": {"os": "posix", "ram_total": 1 << 34, "ram_free": 1 << 33,
                   "comfyui_version": "0.3.66-fake", "python_version": sys.version,
                   "pytorch_version": "none", "embedded_python": False, "argv": ["fake_comfy.py"]},
        "devices": [{"name": "fake", "type": "cpu", "index": 0, "vram_total": 0, "vram_free": 0,
                     "torch_vram_total": 0, "torch_vram_free": 0}]})


async def object_info_all(request):
    return web.json_response(object_info(request.app["state"].files["input"]))


async def object_info_one(request):
    infos = object_info(request.app["state"].files["input"])
    cls = request.match_info["cls"]
    return web.json_response({cls: infos[cls]} if cls in infos else {})


async def post_prompt(request):
    state = request.app["state"]
    if FAULT.hang > 0:
        FAULT.hang -= 1
        state.stats["posts_hung"] += 1
        await asyncio.Event().wait()  # until the client gives up and the handler is cancelled
    try:
        body = await request.json()
    except ValueError as e:
        return web.Response(status=500, text=f"invalid JSON: {e}")
    if "prompt" not in body:
        return api_error(400, "no_prompt", "No prompt provided")
    graph = body["prompt"]
    state.stats["prompts_received"] += 1
    invalid = validate(graph, state.files["input"])
    if invalid is not None:
        state.stats["rejected"] += 1
        return invalid
    pid = body.get("prompt_id") or str(uuid.uuid4())
    if pid in state.history or any(p[1] == pid for p in state.pending) or (
            state.running is not None and state.running[1] == pid):
        return web.json_response({"error": {"type": "duplicate_prompt_id",
                                            "message": "prompt_id already exists",
                                            "details": pid, "extra_info": {}},
                                  "node_errors": {}}, status=409)
    state.number += 1
    extra = dict(body.get("extra_data", {}))
    if "client_id" in body:
        extra["client_id"] = body["client_id"]
    outputs = [nid for nid, n in graph.items()
               if n["class_type"] in ("SaveImage", "PreviewImage", "SaveImageWebsocket",
                                      "SaveLatent")]
    item = (state.number, pid, graph, extra, outputs)
    if body.get("front"):
        state.pending.insert(0, item)
    else:
        state.pending.append(item)
    state.wakeup.set()
    await broadcast_status(state)  # as ComfyUI, on every queue change
    if FAULT.unanswered > 0:
        FAULT.unanswered -= 1
        state.stats["posts_unanswered"] += 1
        await asyncio.Event().wait()  # until the client gives up and the handler is cancelled
    return web.json_response({"prompt_id": pid, "number": state.number, "node_errors": {}})


async def get_history(request):
    state = request.app["state"]
    state.stats["history_requests"] += 1
    pid = request.match_info["pid"]
    return web.json_response({pid: state.history[pid]} if pid in state.history else {})


async def get_history_all(request):
    state = request.app["state"]
    n = int(request.query.get("max_items", "10000"))
    items = list(state.history.items())[-n:]
    return web.json_response(dict(items))


async def post_history(request):
    """As ComfyUI: {"clear": true} empties the history, {"delete": [ids]} takes entries out."""
    state = request.app["state"]
    body = await request.json()
    if body.get("clear"):
        state.history.clear()
    for pid in body.get("delete", []):
        state.stats["history_deletes"] += 1
        state.history.pop(pid, None)
    return web.Response(status=200)


def bad_name(name):
    return name.startswith("/") or ".." in name or "\\" in name


async def view(request):
    state = request.app["state"]
    q = request.query
    if "filename" not in q:
        return web.Response(status=404)
    name, sub, kind = q["filename"], q.get("subfolder", ""), q.get("type", "output")
    if bad_name(name) or kind not in state.files:
        return web.Response(status=400)
    if bad_name(sub):
        return web.Response(status=403)
    blob = state.files[kind].get((sub, name))
    if blob is None:
        return web.Response(status=404)
    ctype = "image/png" if name.endswith(".png") else "application/octet-stream"
    return web.Response(body=blob, content_type=ctype)


async def upload(request):
    state = request.app["state"]
    fields, blob, filename = {}, None, None
    try:
        reader = await request.multipart()
        async for part in reader:
            if part.name == "image":
                filename = part.filename
                blob = await part.read()
            else:
                fields[part.name] = (await part.read()).decode()
    except ConnectionResetError:  # the client went away mid-upload
        return web.Response(status=400)
    if blob is None or not filename:
        return web.Response(status=400)
    kind = fields.get("type", "input")
    sub = fields.get("subfolder", "")
    if kind not in state.files or bad_name(filename):
        return web.Response(status=400)
    if bad_name(sub):
        return web.Response(status=403)
    overwrite = fields.get("overwrite", "").lower() in ("true", "1")
    if FAULT.rename > 0 and (sub, filename) in state.files[kind]:
        FAULT.rename -= 1
        overwrite = False
        state.files[kind][(sub, filename)] += b"\0"  # differs from any upload: forces a new name
    name = filename
    if not overwrite:
        base, dot, ext = filename.rpartition(".")
        if not dot:
            base, ext = filename, ""
        i = 1
        while (sub, name) in state.files[kind] and state.files[kind][(sub, name)] != blob:
            name = f"{base} ({i}).{ext}" if ext else f"{base} ({i})"
            i += 1
    state.files[kind][(sub, name)] = blob
    state.stats["uploads"] += 1
    return web.json_response({"name": name, "subfolder": sub, "type": kind})


async def get_queue(request):
    state = request.app["state"]
    state.stats["queue_requests"] += 1
    running = [list(state.running)] if state.running else []
    return web.json_response({"queue_running": running,
                              "queue_pending": [list(p) for p in state.pending]})


async def post_queue(request):
    state = request.app["state"]
    body = await request.json()
    if body.get("clear"):
        state.pending.clear()
    for pid in body.get("delete", []):
        state.stats["queue_deletes"] += 1
        state.pending = [p for p in state.pending if p[1] != pid]
    return web.Response(status=200)


async def interrupt(request):
    state = request.app["state"]
    try:
        body = await request.json()
    except ValueError:
        body = {}
    pid = body.get("prompt_id") if isinstance(body, dict) else None
    state.stats["interrupts"] += 1
    if state.running is not None and (pid is None or state.running[1] == pid):
        state.interrupt_flag = True
    return web.Response(status=200)


async def free(request):
    return web.Response(status=200)


async def control_fault(request):
    state = request.app["state"]
    body = await request.json()
    kind, count, seconds = body.get("kind"), int(body.get("count", 1)), float(body.get("seconds", 0))
    if kind == "restart":
        state.restart_after = seconds
        asyncio.get_running_loop().call_soon(state.stopped.set)
    elif kind == "forget_sockets":
        # ComfyUI forgets the socket registered under a client id whenever any socket with that id
        # ends: an older connection of a client whose end it notices late (after a network outage)
        # takes the current one's registration with it. The sockets stay open and answer pings;
        # nothing is sent to them again.
        state.sockets.clear()
    elif not FAULT.set(kind, count, seconds):
        return web.Response(status=400, text=f"unknown fault '{kind}'")
    return web.json_response({"ok": True})


async def control_stats(request):
    state = request.app["state"]
    files = {kind: sorted(name for (_, name) in held) for kind, held in state.files.items()}
    return web.json_response(dict(state.stats, files=files, pending=len(state.pending),
                                  running=state.running is not None, history=len(state.history)))



async def serve(host, port):
    first = True
    while True:
        state = State()
        app = make_app(state)
        runner = web.AppRunner(app, handle_signals=False, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, host, port, shutdown_timeout=0.1, reuse_address=True)
        await site.start()
        if first:
            port = site._server.sockets[0].getsockname()[1]
            print(f"PORT {port}", flush=True)
            first = False
        task = asyncio.create_task(worker(state))
        await state.stopped.wait()
        task.cancel()
        for ws in list(state.sockets.values()):
            await ws.close()
        await runner.cleanup()
        await asyncio.sleep(state.restart_after or 0)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--hostile", default="", choices=("",) + HOSTILE_KINDS,
                        help="misbehave from the start (see the hostile mode section)")
    args = parser.parse_args()
    HOSTILE["kind"] = args.hostile
    if args.hostile == "flood_frames":
        FAULT.latency = 2.5  # prompts run long enough for a flood to pile up on one of them
    try:
        asyncio.run(serve(args.host, args.port))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
