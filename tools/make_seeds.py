#!/usr/bin/env python3
"""Generates dreamwindow's seed images: abstract, colourful, varied 512x512 PNGs made from
scratch (flow fields, interference, gradients, noise, soft shapes). Deterministic: the same
files every run. Usage: /usr/bin/python3 tools/make_seeds.py [out_dir]   (default assets/seeds)
Needs numpy and Pillow (Debian: python3-numpy python3-pil)."""
import os
import sys

import numpy as np
from PIL import Image

SIZE = 512


def grid():
    y, x = np.mgrid[0:SIZE, 0:SIZE].astype(np.float64) / SIZE
    return x, y


def palette(t, a, b, c, d):
    """Cosine palette: a + b * cos(2 pi (c t + d)), per channel."""
    t = t[..., None]
    return np.clip(a + b * np.cos(2 * np.pi * (c * t + d)), 0, 1)


def smooth_noise(rng, octaves=5):
    """Value noise: sums of bilinearly upsampled random grids."""
    out = np.zeros((SIZE, SIZE))
    amp, total = 1.0, 0.0
    for o in range(octaves):
        n = 4 * 2 ** o
        g = rng.random((n + 1, n + 1))
        img = Image.fromarray((g * 255).astype(np.uint8)).resize((SIZE, SIZE), Image.BICUBIC)
        out += amp * np.asarray(img, dtype=np.float64) / 255
        total += amp
        amp *= 0.5
    return out / total


def flow_field(rng):
    x, y = grid()
    n = smooth_noise(rng)
    angle = n * 4 * np.pi
    t = np.sin(10 * (x * np.cos(angle) + y * np.sin(angle)) + 6 * n)
    return palette(0.5 + 0.5 * t, [0.5, 0.5, 0.5], [0.5, 0.5, 0.5], [1.0, 1.0, 1.0], [0.0, 0.33, 0.67])


def interference(rng):
    x, y = grid()
    t = np.zeros_like(x)
    for _ in range(4):
        cx, cy, f = rng.random(), rng.random(), 18 + 30 * rng.random()
        t += np.sin(f * np.hypot(x - cx, y - cy))
    return palette(t / 8 + 0.5, [0.5, 0.5, 0.5], [0.5, 0.5, 0.5], [1.0, 0.7, 0.4], [0.0, 0.15, 0.2])


def aurora(rng):
    x, y = grid()
    n = smooth_noise(rng, 4)
    bands = np.exp(-((y - 0.35 - 0.15 * np.sin(6 * x + 4 * n)) ** 2) / 0.01)
    sky = np.stack([0.02 + 0.1 * y, 0.03 + 0.12 * y, 0.12 + 0.3 * y], -1)
    glow = bands[..., None] * np.array([0.2, 0.95, 0.6]) + (bands ** 3)[..., None] * np.array([0.6, 0.2, 0.8])
    stars = (rng.random((SIZE, SIZE)) > 0.9985)[..., None] * (1 - y[..., None])
    return np.clip(sky + glow + stars, 0, 1)


def marble(rng):
    x, y = grid()
    n = smooth_noise(rng, 6)
    t = 0.5 + 0.5 * np.sin(8 * (x + y) + 12 * n)
    return palette(t, [0.6, 0.5, 0.45], [0.4, 0.35, 0.3], [1.0, 1.0, 1.0], [0.05, 0.1, 0.2])


def bubbles(rng):
    x, y = grid()
    img = np.zeros((SIZE, SIZE, 3)) + np.array([0.05, 0.02, 0.1])
    for _ in range(40):
        cx, cy, r = rng.random(), rng.random(), 0.03 + 0.12 * rng.random()
        colour = palette(np.array([rng.random()]), [0.5, 0.5, 0.5], [0.5, 0.5, 0.5], [1, 1, 1], [0.0, 0.33, 0.67])[0]
        d = np.hypot(x - cx, y - cy) / r
        img += (np.clip(1 - d, 0, 1) ** 1.5)[..., None] * colour * 0.8
    return np.clip(img, 0, 1)


def sunset_gradient(rng):
    x, y = grid()
    n = smooth_noise(rng, 3)
    t = y + 0.1 * np.sin(5 * x + 3 * n)
    return palette(t, [0.8, 0.5, 0.4], [0.2, 0.4, 0.2], [2.0, 1.0, 1.0], [0.0, 0.25, 0.25])


def crystal(rng):
    """Voronoi cells with per-cell colour and edge light."""
    x, y = grid()
    pts = rng.random((48, 2))
    d = np.stack([np.hypot(x - px, y - py) for px, py in pts], -1)
    order = np.argsort(d, -1)
    nearest = order[..., 0]
    edge = np.take_along_axis(d, order[..., 1:2], -1)[..., 0] - np.take_along_axis(d, order[..., 0:1], -1)[..., 0]
    hue = rng.random(len(pts))[nearest]
    base = palette(hue, [0.45, 0.5, 0.6], [0.35, 0.35, 0.35], [1, 1, 1], [0.6, 0.7, 0.8])
    return np.clip(base * (0.6 + 0.4 * np.clip(edge * 25, 0, 1))[..., None] + (edge < 0.004)[..., None] * 0.6, 0, 1)


def nebula(rng):
    n1, n2, n3 = smooth_noise(rng, 6), smooth_noise(rng, 6), smooth_noise(rng, 5)
    img = np.stack([n1 ** 2.2, (0.6 * n2) ** 2.5, n3 ** 1.6], -1) * 1.6
    stars = (rng.random((SIZE, SIZE)) > 0.998)[..., None] * 1.0
    return np.clip(img + stars, 0, 1)


GENERATORS = [flow_field, interference, aurora, marble, bubbles, sunset_gradient, crystal, nebula]


def main():
    out_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "assets", "seeds")
    os.makedirs(out_dir, exist_ok=True)
    for i, gen in enumerate(GENERATORS):
        rng = np.random.default_rng(1000 + i)
        img = (gen(rng) * 255 + 0.5).astype(np.uint8)
        path = os.path.join(out_dir, f"seed_{i + 1:02d}_{gen.__name__}.png")
        Image.fromarray(img, "RGB").save(path, optimize=True)
        print(path)


if __name__ == "__main__":
    main()
