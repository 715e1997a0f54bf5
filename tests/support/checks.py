"""Pass/fail bookkeeping for the test scripts that drive the binary (and the real ComfyUI): each
check prints one line, "ok   name" or "FAIL name: detail", as it happens; finish() prints the tally
and exits 1 when a check failed or none ran (a script that checked nothing has not passed).

    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
    from checks import check, finish
"""
import sys


class Checks:
    def __init__(self):
        self.results = []

    def check(self, name, ok, detail=""):
        ok = bool(ok)
        self.results.append(ok)
        print(("ok   " if ok else "FAIL ") + name + ("" if ok else f": {detail}"), flush=True)
        return ok

    def failed(self):
        return self.results.count(False)

    def exit_code(self):
        return 0 if self.results and all(self.results) else 1

    def finish(self):
        failed = self.failed()
        print(f"{len(self.results) - failed} passed, {failed} failed", flush=True)
        sys.exit(self.exit_code())


_default = Checks()
check = _default.check
finish = _default.finish
