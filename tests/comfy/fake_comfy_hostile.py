"""The hostile mode of fake_comfy.py (owner: helper "hostile"), kept apart from the well-behaved
server: a server that speaks ComfyUI and then misbehaves, for tests/comfy/test_app_hostile.py."""
import asyncio
import struct
import uuid

from aiohttp import web

# ==== Hostile mode (owner: helper "hostile") ===================================================
# A server that speaks ComfyUI and then misbehaves, for tests/comfy/test_app_hostile.py. Chosen by
# --hostile KIND or POST /_control/hostile {"kind": KIND} ("" turns it off). Everything not named
# by the kind behaves normally:
#   deep_ws          every 0.3 s a WebSocket text message nested 100000 levels deep
#   deep_object_info /object_info answers JSON nested 100000 levels deep
#   deep_prompt      POST /prompt answers 400 with a body nested 100000 levels deep
#   deep_history     the WebSocket stays silent (the client polls /history) and /history/{id}
#                    answers JSON nested 100000 levels deep
#   wrap_ping        on connecting, a ping whose 64-bit length is 2^64 - 1 (wraps to "short")
#   bomb_ws          every 0.3 s a 6 MB text message of ~2 million empty objects
#   bomb_object_info /object_info answers a 60 MB array of ~20 million empty objects
#   bomb_history     as deep_history, with /history answering a 12 MB bomb (4 million values)
#   flood_frames     1 MB binary preview frames sent as fast as the client reads them (with
#                    --hostile, each prompt also takes 2.5 s: the frames pile up on a running one)
#   flood_text       small valid text messages sent as fast as the client reads them
#   bad_text         POST /prompt answers 500 with a long non-ASCII text cut mid-character,
#                    terminal escape sequences, a forged log line and bytes that are not UTF-8
HOSTILE_KINDS = ("deep_ws", "deep_object_info", "deep_prompt", "deep_history", "wrap_ping",
                 "bomb_ws", "bomb_object_info", "bomb_history", "flood_frames", "flood_text",
                 "bad_text")
HOSTILE = {"kind": ""}
DEEP = b"[" * 100000 + b"]" * 100000
BAD_TEXT = (b"Erreur du mod\xc3\xa8le: \x1b[2J\x1b[31m\n[2026-01-01 00:00:00.000] [info] comfy: all "
            b"good\r\xff\xfe " + ("\u00e9" * 90).encode()[:151])  # ends mid-character


def hostile_bomb(nbytes):
    return b"[" + b"{}," * (nbytes // 3 - 1) + b"{}]"


def ws_raw_frame(opcode, payload=b"", length=None):
    n = len(payload) if length is None else length
    head = bytes([0x80 | opcode])
    if n < 126:
        head += bytes([n])
    elif n < 65536:
        head += bytes([126]) + struct.pack(">H", n)
    else:
        head += bytes([127]) + struct.pack(">Q", n)
    return head + payload


# The most a flood keeps unread in our send buffer: the client is always that far behind.
FLOOD_BACKLOG = 2 << 20
FLOODED = set()  # the sockets a flood writes to (their prompt messages go out by hostile_send)


async def hostile_write(ws, data):
    """Writes raw bytes to the socket, waiting while the client has not read what was sent."""
    transport = ws._writer.transport
    while not transport.is_closing() and transport.get_write_buffer_size() > FLOOD_BACKLOG:
        await asyncio.sleep(0.01)
    if transport.is_closing():
        raise ConnectionError("closed")
    transport.write(data)


async def hostile_send(ws, payload, binary):
    """A prompt's own message on a flooded socket: queued behind the flood, in order, like any
    server's. (aiohttp's send would wait for the send buffer to drain, which the flood never lets
    happen: the prompt's messages would never go out and the worker would hang.) False when the
    socket is not flooded (send it the usual way)."""
    if ws not in FLOODED:
        return False
    await hostile_write(ws, ws_raw_frame(2 if binary else 1, payload))
    return True


async def hostile_socket(request):
    kind = HOSTILE["kind"]
    ws = web.WebSocketResponse(max_msg_size=0)
    await ws.prepare(request)
    state = request.app["state"]
    cid = request.query.get("clientId") or uuid.uuid4().hex
    if kind.startswith("flood"):  # the prompts' own messages go out between the flood's
        state.sockets[cid] = ws
    flood = {"deep_ws": (0.3, lambda: ws_raw_frame(1, DEEP)),
             "bomb_ws": (0.3, lambda: ws_raw_frame(1, hostile_bomb(6 << 20))),
             "flood_frames": (0.0, lambda: ws_raw_frame(2, struct.pack(">II", 1, 2) +
                                                       b"\x89PNG" + bytes(1 << 20))),
             "flood_text": (0.0, lambda: ws_raw_frame(1, b'{"type":"progress","data":'
                                                     b'{"value":1,"max":2,"prompt_id":"x"}}'))}
    try:
        if kind == "wrap_ping":
            await hostile_write(ws, ws_raw_frame(9, b"boom", length=(1 << 64) - 1))
        elif kind in flood:
            pause, make = flood[kind]
            payload = make()
            FLOODED.add(ws)
            while not ws.closed:
                await hostile_write(ws, payload)
                await asyncio.sleep(pause)
        async for _ in ws:  # deep_history, bomb_history, wrap_ping: silent until closed
            pass
    except (ConnectionError, RuntimeError, asyncio.CancelledError):
        pass
    finally:
        FLOODED.discard(ws)
        if state.sockets.get(cid) is ws:
            del state.sockets[cid]
    return ws


def hostile_middleware(state):
    json_type = "application/json"

    @web.middleware
    async def middleware(request, handler):
        kind, path = HOSTILE["kind"], request.path.removeprefix("/api")
        if not kind or path.startswith("/_control"):
            return await handler(request)
        if path == "/ws" and kind in ("deep_ws", "bomb_ws", "wrap_ping", "flood_frames",
                                      "flood_text", "deep_history", "bomb_history"):
            return await hostile_socket(request)
        if path.startswith("/object_info") and kind in ("deep_object_info", "bomb_object_info"):
            body = DEEP if kind == "deep_object_info" else hostile_bomb(60 << 20)
            return web.Response(body=body, content_type=json_type)
        if path.startswith("/history/") and kind in ("deep_history", "bomb_history"):
            body = DEEP if kind == "deep_history" else hostile_bomb(12 << 20)
            return web.Response(body=body, content_type=json_type)
        if path == "/prompt" and request.method == "POST" and kind in ("deep_prompt", "bad_text"):
            if kind == "deep_prompt":
                return web.Response(status=400, body=DEEP, content_type=json_type)
            return web.Response(status=500, body=BAD_TEXT, content_type="text/plain")
        return await handler(request)
    return middleware


async def control_hostile(request):
    kind = (await request.json()).get("kind", "")
    if kind and kind not in HOSTILE_KINDS:
        return web.Response(status=400, text=f"unknown hostile kind '{kind}'")
    HOSTILE["kind"] = kind
    return web.json_response({"ok": True})

