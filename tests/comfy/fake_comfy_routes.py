"""The HTTP routes and the WebSocket handler of the fake ComfyUI server (fake_comfy.py): the
application with its ComfyUI routes (also under /api), the fault middleware, each route's handler
(/prompt queues for the executor in fake_comfy_executor.py, /history, /view, /upload/image,
/queue, /interrupt...) and the control routes (/_control/fault, /_control/stats)."""
import asyncio
import json
import sys
import uuid

from aiohttp import WSMsgType, web

from fake_comfy_executor import broadcast_status
from fake_comfy_faults import FAULT
from fake_comfy_graph import api_error, object_info, validate
from fake_comfy_hostile import control_hostile, hostile_middleware


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
