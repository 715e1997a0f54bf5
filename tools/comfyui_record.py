#!/usr/bin/env python3
"""Records what a ComfyUI server says to a client, message by message, and compares the real
ComfyUI (../shared/comfyui) with the fake one (tests/comfy/fake_comfy.py).

For each scenario (model-free graphs both servers run: SaveImage, the same graph again (cached),
PreviewImage, SaveImageWebsocket, two invalid graphs, an unknown history id, an upload name
clash) it logs the HTTP answers (status + JSON shape) and every WebSocket message (type, data keys,
the fields a client acts on; binary frames as event type + image format) until `executing` with
node null, then the /history entry's shape. Ids and timestamps are normalised away.

    tools/comfyui_record.py --compare [--out DIR]   both servers, transcripts + unified diff
    tools/comfyui_record.py --url URL [--out FILE]  one running server

Needs aiohttp (Debian's python3-aiohttp, or the ComfyUI venv).
"""
import argparse
import asyncio
import difflib
import json
import os
import struct
import subprocess
import sys
import tempfile
import uuid

import aiohttp

TOOLS = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(TOOLS)
SEED = os.path.join(REPO, "assets", "seeds", "seed_01_flow_field.png")
KEEP = ("node", "value", "max", "nodes", "queue_remaining", "status_str", "completed",
        "node_type", "type", "exception_type")


def shape(v, depth=0):
    """A JSON value's structure: dict keys (sorted), list lengths, scalar types."""
    if isinstance(v, dict):
        if depth > 3:
            return "{...}"
        return {k: shape(x, depth + 1) for k, x in sorted(v.items())}
    if isinstance(v, list):
        return [shape(x, depth + 1) for x in v[:3]] + (["..."] if len(v) > 3 else [])
    return type(v).__name__ if v is not None else None


def text_message(msg, ids):
    t = msg.get("type")
    d = msg.get("data", {})
    keys = sorted(d.keys()) if isinstance(d, dict) else shape(d)
    facts = {}
    if isinstance(d, dict):
        for k in KEEP:
            if k in d:
                facts[k] = ids.get(d[k], d[k]) if isinstance(d[k], str) else d[k]
        qr = d.get("status", {}).get("exec_info", {}).get("queue_remaining") \
            if isinstance(d.get("status"), dict) else None
        if qr is not None:
            facts["queue_remaining"] = qr
        if "output" in d:
            facts["output"] = shape(d["output"])
    return f"ws {t} keys={keys} {json.dumps(facts, sort_keys=True)}"


def graph(output, width=96, image="{image}", method="bilinear"):
    g = {"1": {"class_type": "LoadImage", "inputs": {"image": image}},
         "2": {"class_type": "ImageScale",
               "inputs": {"image": ["1", 0], "upscale_method": method, "width": width,
                          "height": 64, "crop": "disabled"}},
         "3": {"class_type": output, "inputs": {"images": ["2", 0]}}}
    if output == "SaveImage":
        g["3"]["inputs"]["filename_prefix"] = "record"
    return g


class Recorder:
    def __init__(self, url):
        self.url = url
        self.cid = str(uuid.uuid4())
        self.lines = []
        self.ids = {self.cid: "CID"}

    def log(self, line):
        self.lines.append(line)

    async def upload(self, session, name, overwrite):
        form = aiohttp.FormData()
        form.add_field("image", open(SEED, "rb"), filename=name, content_type="image/png")
        form.add_field("overwrite", "true" if overwrite else "false")
        async with session.post(self.url + "/upload/image", data=form) as r:
            body = await r.json()
            renamed = "same name" if body.get("name") == name else "renamed"
            self.log(f"http POST /upload/image {r.status} {shape(body)} {renamed}")
            return body["name"]

    async def drain(self, ws, pid, timeout=60):
        """Logs WebSocket messages until `executing` node null for pid (or a quiet timeout)."""
        while True:
            try:
                msg = await ws.receive(timeout=timeout)
            except asyncio.TimeoutError:
                self.log("ws (timeout, no end of prompt)")
                return
            if msg.type == aiohttp.WSMsgType.TEXT:
                m = json.loads(msg.data)
                if m.get("type") in ("crystools.monitor",):
                    continue
                self.log(text_message(m, self.ids))
                d = m.get("data", {})
                if m.get("type") == "executing" and d.get("node") is None and \
                        d.get("prompt_id") == pid:
                    return
            elif msg.type == aiohttp.WSMsgType.BINARY:
                event, fmt = struct.unpack(">II", msg.data[:8])
                png = msg.data[8:12] == b"\x89PNG"
                self.log(f"ws binary event={event} format={fmt} png={png}")
            else:
                self.log(f"ws closed {msg.type}")
                return

    async def prompt(self, session, ws, name, g, expect_run=True):
        pid = str(uuid.uuid4())
        self.ids[pid] = "PID"
        self.log(f"--- {name}")
        async with session.post(self.url + "/prompt", json={
                "prompt": g, "client_id": self.cid, "prompt_id": pid}) as r:
            body = await r.json(content_type=None)
            self.log(f"http POST /prompt {r.status} {json.dumps(shape(body))}")
            if r.status == 400:
                errs = {n: [(e["type"], e.get("extra_info", {}).get("input_name"))
                            for e in v.get("errors", [])]
                        for n, v in body.get("node_errors", {}).items()}
                self.log(f"  error.type={body.get('error', {}).get('type')} node_errors={errs}")
        if r.status != 200:
            return
        await self.drain(ws, pid)
        async with session.get(f"{self.url}/history/{pid}") as r:
            h = (await r.json()).get(pid, {})
            st = h.get("status", {})
            self.log(f"http GET /history/PID {r.status} keys={sorted(h)} "
                     f"outputs={json.dumps(shape(h.get('outputs')))} "
                     f"status_str={st.get('status_str')} completed={st.get('completed')} "
                     f"messages={[m[0] for m in st.get('messages', [])]}")

    async def run(self):
        async with aiohttp.ClientSession() as session:
            async with session.ws_connect(f"{self.url}/ws?clientId={self.cid}",
                                          max_msg_size=0) as ws:
                self.log("--- connect")
                msg = await ws.receive(timeout=10)
                self.log(text_message(json.loads(msg.data), self.ids))
                name = await self.upload(session, "record_input.png", True)
                await self.upload(session, "record_input.png", True)
                await self.upload(session, "record_input.png", False)
                for label, g in (("SaveImage", graph("SaveImage", image=name)),
                                 ("SaveImage again (identical graph)",
                                  graph("SaveImage", image=name)),
                                 ("PreviewImage", graph("PreviewImage", image=name, width=80)),
                                 ("SaveImageWebsocket", graph("SaveImageWebsocket", image=name)),
                                 ("SaveImageWebsocket again",
                                  graph("SaveImageWebsocket", image=name)),
                                 ("invalid: value not in list",
                                  graph("SaveImage", image=name, method="nope")),
                                 ("invalid: missing image file",
                                  graph("PreviewImage", image="missing.png"))):
                    await self.prompt(session, ws, label, g)
                self.log("--- misc")
                async with session.get(f"{self.url}/history/{uuid.uuid4()}") as r:
                    self.log(f"http GET /history/unknown {r.status} {await r.text()}")
                async with session.get(f"{self.url}/queue") as r:
                    self.log(f"http GET /queue {r.status} {json.dumps(shape(await r.json()))}")
                async with session.post(f"{self.url}/prompt", data=b"{not json") as r:
                    self.log(f"http POST /prompt (invalid JSON) {r.status}")
        return self.lines


def record(url):
    return asyncio.run(Recorder(url).run())


def start_fake():
    p = subprocess.Popen([sys.executable, os.path.join(REPO, "tests", "comfy", "fake_comfy.py"),
                          "--port", "0"], stdout=subprocess.PIPE, text=True)
    port = p.stdout.readline().split()[1]
    return p, f"http://127.0.0.1:{port}"


def compare(out):
    sys.path.insert(0, TOOLS)
    import comfyui_server
    python = comfyui_server.venv_python(build=True)
    with comfyui_server.ComfyServer(python) as real:
        real.start()
        real_lines = record(real.url)
    fake, url = start_fake()
    try:
        fake_lines = record(url)
    finally:
        fake.terminate()
        fake.wait()
    os.makedirs(out, exist_ok=True)
    for name, lines in (("real", real_lines), ("fake", fake_lines)):
        with open(os.path.join(out, name + ".txt"), "w") as f:
            f.write("\n".join(lines) + "\n")
    diff = list(difflib.unified_diff(real_lines, fake_lines, "real ComfyUI 0.3.64",
                                     "tests/comfy/fake_comfy.py", lineterm="", n=2))
    print("\n".join(diff) if diff else "no differences")
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--url")
    ap.add_argument("--compare", action="store_true")
    ap.add_argument("--out")
    a = ap.parse_args()
    if a.compare:
        return compare(a.out or tempfile.mkdtemp(prefix="dw-comfy-record-"))
    if not a.url:
        ap.error("--url or --compare")
    lines = record(a.url)
    text = "\n".join(lines) + "\n"
    if a.out:
        open(a.out, "w").write(text)
    else:
        sys.stdout.write(text)


if __name__ == "__main__":
    sys.exit(main())
