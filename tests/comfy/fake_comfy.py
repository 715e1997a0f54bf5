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

This file holds the server's state, its restart loop and the command line. The HTTP routes and
the WebSocket handler are in fake_comfy_routes.py, the executor that runs prompts and sends their
progress and images in fake_comfy_executor.py, the node catalogue and validation in
fake_comfy_graph.py, the faults in fake_comfy_faults.py and the hostile mode in
fake_comfy_hostile.py.

Usage: fake_comfy.py [--host 127.0.0.1] [--port 0]; prints "PORT <n>" once it listens.
"""
import argparse
import asyncio

from aiohttp import web

from fake_comfy_executor import worker
from fake_comfy_faults import FAULT
from fake_comfy_hostile import HOSTILE, HOSTILE_KINDS
from fake_comfy_routes import make_app


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
