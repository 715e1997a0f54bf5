#!/usr/bin/env python3
"""dreamwindow against the real ComfyUI 0.3.64 (../shared/comfyui) on the CPU, one case per run:

    test_real_comfy.py CASE DREAMWINDOW_EXE

output_nodes  keyframes arrive through SaveImage, PreviewImage and SaveImageWebsocket
extra_input   a workflow with an input /object_info does not list ("upload": "image") is accepted
sd15          the shipped sd15_img2img workflow on the random-weight SD1.5 checkpoint
kill9         ComfyUI killed (-9) with prompts in flight, restarted: the picture stands still for
              no more than 2 s (the buffer plays on, then the fallback) and keyframes come back
slow30        a server that needs ~30 s per keyframe delivers every keyframe, none interrupted
busy          a server busy with another client's long prompt delivers once it is free

Slow servers are made with the test node DreamwindowSlowPass (custom_nodes/): it sleeps and
reports progress like a sampler, so no model or machine speed is involved.
"""
import os
import sys
import time

import realcomfy as rc
from comfyui_server import ComfyServer


def case_output_nodes(exe, python, checks):
    with ComfyServer(python, node_files=[rc.TEST_NODES]) as server, rc.scratch() as d:
        server.start()
        for output in ("SaveImage", "PreviewImage", "SaveImageWebsocket"):
            wf = rc.write_graph(d, output, rc.image_graph(output))
            earlier = {b[0] for b in rc.interrupted_prompts(server)}  # stops of earlier runs
            with rc.scratch() as w:
                app = rc.App(exe, server.url, w, ["--source.kind", "comfy", "--comfy.workflow", wf])
                s = app.wait_for(f"{output}: 3 keyframes from the server",
                                 lambda s: rc.server_keyframes(s) >= 3, 240)
                bad = rc.interrupted_prompts(server, earlier)  # before the stop (it interrupts)
                rc_code = app.stop()
                checks.check(f"{output}: keyframes arrive from the server",
                             rc.server_keyframes(s) >= 3 and
                             s["generation"]["source"].startswith("comfy"), s["generation"])
                checks.check(f"{output}: dreamwindow ends cleanly on SIGTERM", rc_code == 0,
                             f"exit {rc_code}: {app.log_tail()}")
                checks.check(f"{output}: no prompt failed on the server", not bad, bad)


def case_extra_input(exe, python, checks):
    graph = rc.image_graph("SaveImageWebsocket", extra_inputs={"upload": "image"})
    with ComfyServer(python) as server, rc.scratch() as d:
        server.start()
        wf = rc.write_graph(d, "extra_input", graph)
        app = rc.App(exe, server.url, d, ["--source.kind", "comfy", "--comfy.workflow", wf,
                                          "--comfy.in_flight", "2"])
        s = app.wait_for("keyframes through a workflow with LoadImage 'upload': 'image'",
                         lambda s: rc.server_keyframes(s) >= 5, 180)
        # Each finished prompt of ours is deleted from the server's history once its keyframe is
        # read: at most one per lane can be between the two.
        kept = [pid for pid, h in rc.history(server).items()
                if h.get("status", {}).get("status_str") == "success"]
        app.stop()
        checks.check("a workflow with an input the server ignores is accepted",
                     rc.server_keyframes(s) >= 5, s["generation"])
        checks.check("our finished prompts leave the server's history (at most 2 of 5+ there)",
                     len(kept) <= 2, f"{len(kept)} kept after {rc.server_keyframes(s)} keyframes")


def case_sd15(exe, python, checks):
    ckpt = os.popen(f"{sys.executable} {rc.REPO}/tools/comfyui_checkpoint.py --check").read().strip()
    if not os.path.isfile(ckpt):
        rc.fail("the random-weight SD1.5 checkpoint is not built: run "
                "tools/comfyui_checkpoint.py (the realcomfy.checkpoint fixture does)")
    with ComfyServer(python, checkpoints=[ckpt]) as server, rc.scratch() as d:
        server.start()
        app = rc.App(exe, server.url, d, [
            "--source.kind", "comfy", "--comfy.workflow", "sd15_img2img",
            "--comfy.checkpoint", os.path.basename(ckpt), "--comfy.steps", "1",
            "--comfy.in_flight", "1", "--comfy.request_timeout_s", "900"] +
            (["--comfy.stall_timeout_s", "900"] if rc.knows(exe, "comfy.stall_timeout_s") else []))
        # The first prompt loads ~4 GB of weights (~80 s on 2 loaded cores, no progress meanwhile).
        s = app.wait_for("2 keyframes from the shipped workflow",
                         lambda s: rc.server_keyframes(s) >= 2, 900)
        bad = rc.interrupted_prompts(server)  # before the stop, which interrupts ours
        app.stop()
        checks.check("sd15_img2img on the SD1.5-shaped checkpoint delivers keyframes",
                     rc.server_keyframes(s) >= 2, s["generation"])
        checks.check("no prompt failed or interrupted on the server", not bad, bad)


def case_kill9(exe, python, checks):
    # ~2 s per keyframe with progress every 0.5 s: there is always a prompt running.
    graph = rc.image_graph("SaveImageWebsocket", slow_s=2.0, slow_steps=4)
    with ComfyServer(python, node_files=[rc.TEST_NODES]) as server, rc.scratch() as d:
        server.start()
        wf = rc.write_graph(d, "kill9", graph)
        app = rc.App(exe, server.url, d, ["--source.kind", "auto", "--comfy.workflow", wf,
                                          "--comfy.retry_max_s", "1"])
        app.wait_for("4 keyframes from the server, prompts in flight",
                     lambda s: rc.server_keyframes(s) >= 4 and s["generation"]["pending"] >= 1, 300)
        killed_at = time.monotonic() - app.t0
        server.kill9()
        time.sleep(20)  # down for a while, as a crashed server that needs a restart by hand
        before = rc.server_keyframes(app.latest())
        server.start()
        s = app.wait_for("keyframes from the restarted server",
                         lambda s: rc.server_keyframes(s) > before, 240)
        app.stop()
        still = app.longest_standstill(killed_at)
        # status.json is written every 0.1 s and sampled every 0.05 s: 0.3 s of slack for that.
        checks.check(f"picture stands still no more than 2 s after kill -9 (longest {still:.1f} s)",
                     still <= 2.3, f"stood still {still:.1f} s")
        checks.check("keyframes resume from the restarted server", rc.server_keyframes(s) > before,
                     s["generation"])


def case_slow30(exe, python, checks):
    graph = rc.image_graph("SaveImageWebsocket", slow_s=30.0, slow_steps=30)
    with ComfyServer(python, node_files=[rc.TEST_NODES]) as server, rc.scratch() as d:
        server.start()
        wf = rc.write_graph(d, "slow30", graph)
        app = rc.App(exe, server.url, d, ["--source.kind", "comfy", "--comfy.workflow", wf])
        s = app.wait_for("3 keyframes at ~30 s each", lambda s: rc.server_keyframes(s) >= 3, 600)
        bad = rc.interrupted_prompts(server)  # before the stop, which interrupts ours
        app.stop()
        checks.check("a 30 s/keyframe server delivers keyframes", rc.server_keyframes(s) >= 3,
                     s["generation"])
        checks.check("no prompt interrupted while making progress", not bad, bad)
        counters = s["generation"].get("counters", {})
        checks.check("no request timed out or retried", counters.get("timeouts", 0) == 0 and
                     counters.get("failed_attempts", 0) == 0, counters)


def case_busy(exe, python, checks):
    with ComfyServer(python, node_files=[rc.TEST_NODES]) as server, rc.scratch() as d:
        server.start()
        # Another user's job, longer than dreamwindow's default request timeout (60 s).
        other = rc.queue_other_client(server, rc.image_graph("PreviewImage", slow_s=75.0,
                                                             slow_steps=75))
        wf = rc.write_graph(d, "busy", rc.image_graph("SaveImageWebsocket"))
        app = rc.App(exe, server.url, d, ["--source.kind", "comfy", "--comfy.workflow", wf])
        s = app.wait_for("2 keyframes once the other client's prompt is done",
                         lambda s: rc.server_keyframes(s) >= 2, 400)
        bad = rc.interrupted_prompts(server)  # before the stop, which interrupts ours
        app.stop()
        other_status = rc.history(server, other).get(other, {}).get("status", {})
        checks.check("the busy server delivers once free", rc.server_keyframes(s) >= 2,
                     s["generation"])
        checks.check("the other client's prompt was left alone (not interrupted)",
                     other_status.get("status_str") == "success", other_status)
        checks.check("none of dreamwindow's prompts interrupted", not bad, bad)
        counters = s["generation"].get("counters", {})
        checks.check("no request given up while it waited in the queue (never re-queued)",
                     counters.get("timeouts", 0) == 0 and counters.get("failed_attempts", 0) == 0,
                     counters)


CASES = {name[5:]: f for name, f in globals().items() if name.startswith("case_")}


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in CASES:
        sys.exit(f"usage: test_real_comfy.py {{{'|'.join(CASES)}}} DREAMWINDOW_EXE")
    python = rc.require_comfyui()
    checks = rc.Checks()
    start = time.monotonic()
    try:
        CASES[sys.argv[1]](sys.argv[2], python, checks)
    finally:  # an unexpected error must not leave a dreamwindow running
        for app in list(rc._apps):
            app.stop()
    print(f"{sys.argv[1]}: {time.monotonic() - start:.0f} s", flush=True)
    checks.finish()


if __name__ == "__main__":
    main()
