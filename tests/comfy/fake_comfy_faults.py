"""The faults of fake_comfy.py (its docstring lists them) that live outside the server's state:
what is set by POST /_control/fault, and the pictures the collapse, fry and noise faults make."""
import numpy as np


def collapsed_image(shape):
    """The one picture a collapsed loop keeps returning: a soft diagonal gradient."""
    h, w = shape[0], shape[1]
    ramp = (np.add.outer(np.arange(h), np.arange(w)) * (200.0 / max(1, h + w - 2)) + 30).astype(np.uint8)
    return np.stack([ramp, ramp // 2 + 60, 255 - ramp], axis=-1)[..., :shape[2]]


class Fault:
    def __init__(self):
        self.latency = 0.0
        self.http500 = 0
        self.drop_socket = 0
        self.hang = 0
        self.unanswered = 0
        self.execution_error = 0
        self.rename = 0
        self.step_delay = 0.0
        self.stall = 0
        self.collapse = 0  # prompts whose sampler returns one fixed image (negative: all of them)
        self.fry = 0       # prompts whose output is fried (negative: all of them)
        self.noise = 0     # prompts whose output gets pixel noise (negative: all of them)
        self.backlog = 0
        self.backlog_s = 0.0

    def set(self, kind, count, seconds):
        """POST /_control/fault's kinds but restart (the server's own): False for an unknown one."""
        if kind in ("latency", "step_delay"):
            setattr(self, kind, seconds)
        elif kind == "backlog":
            self.backlog, self.backlog_s = count, seconds
        elif kind in ("http500", "drop_socket", "hang", "unanswered", "execution_error", "rename",
                      "collapse", "fry", "noise", "stall"):
            setattr(self, kind, count)
        else:
            return False
        return True


FAULT = Fault()  # survives a restart: a fault set before one applies after it


# ---- fry and noise faults (helper "picture"): the two ways an img2img loop degenerates that
# are not collapse. Each prompt under the fault makes its output a little worse than its input;
# the client's feedback loop compounds it, as a real frying or noisy loop does.
FRY_GAIN = 1.2
NOISE_AMPLITUDE = 40
NOISE_RNG = np.random.default_rng(1234)


def degenerate(image):
    """The sampler's output under the fry and noise faults (unchanged without them)."""
    out = image.astype(np.float32)
    if FAULT.fry != 0:
        FAULT.fry -= 1 if FAULT.fry > 0 else 0
        luma = out[..., :3] @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
        grey = 128 + FRY_GAIN * (luma - 128)
        out[..., :3] = grey[..., None] + FRY_GAIN * (out[..., :3] - luma[..., None])
    if FAULT.noise != 0:
        FAULT.noise -= 1 if FAULT.noise > 0 else 0
        out[..., :3] += NOISE_RNG.uniform(-NOISE_AMPLITUDE, NOISE_AMPLITUDE, out[..., :3].shape)
    return np.clip(out, 0, 255).astype(np.uint8)
# ---- end of the fry and noise faults
