"""Binary vessel phantoms whose length, width, tortuosity, curvature and branching angles are known."""
from __future__ import annotations

import math

import numpy as np


def _grid(size: int) -> tuple[np.ndarray, np.ndarray]:
    yy, xx = np.mgrid[:size, :size]
    return yy.astype(float), xx.astype(float)


def tube(angle: float, width: float, length: float, size: int = 256, offset: float = 0.0) -> np.ndarray:
    """A straight rectangular tube centred in the image: pixel centres within [0, length) along the direction at
    `angle` degrees from the x axis and within [-width/2, width/2) across it, the axis shifted `offset` px across."""
    yy, xx = _grid(size)
    a = math.radians(angle)
    along_dir = np.array([math.sin(a), math.cos(a)])
    y0, x0 = size / 2 - along_dir * length / 2
    along = (yy - y0) * along_dir[0] + (xx - x0) * along_dir[1]
    across = -(yy - y0) * along_dir[1] + (xx - x0) * along_dir[0] - offset
    return (along >= 0) & (along < length) & (across >= -width / 2) & (across < width / 2)


def closest_tube(angle: float, width: float, length: float, size: int = 256) -> np.ndarray:
    """The tube of `width` among sub-pixel offsets whose rasterised width (area / length) is closest to `width`:
    at 45 degrees pixel rows are 0.71 px apart, so one offset may hold a row more than another."""
    candidates = [tube(angle, width, length, size, offset) for offset in np.arange(0, 1, 0.125)]
    return min(candidates, key=lambda m: abs(m.sum() / length - width))


def capsule(size: int, start: tuple[float, float], stop: tuple[float, float], width: float) -> np.ndarray:
    """Pixels within width/2 of the segment from `start` to `stop` (row, col)."""
    yy, xx = _grid(size)
    p, d = np.asarray(start, float), np.subtract(stop, start)
    t = np.clip(((yy - p[0]) * d[0] + (xx - p[1]) * d[1]) / (d @ d), 0, 1)
    return np.hypot(yy - p[0] - t * d[0], xx - p[1] - t * d[1]) <= width / 2


def y_junction(angle: float, rotation: float = 0.0, size: int = 256) -> np.ndarray:
    """A trunk 5 px wide meeting two daughters 3 px wide that leave `angle` degrees apart, all 100 px long."""
    centre = np.array([size / 2, size / 2])

    def towards(degrees: float) -> np.ndarray:
        a = math.radians(degrees + rotation)
        return centre + 100 * np.array([-math.cos(a), math.sin(a)])

    mask = capsule(size, centre, towards(180), 5)
    for side in (-1, 1):
        mask |= capsule(size, centre, towards(side * angle / 2), 3)
    return mask


def circular_arc(radius: float, degrees: float, width: float = 3, size: int = 256) -> np.ndarray:
    """An arc of `degrees` on a circle of `radius` around the image centre, symmetric about the upward direction."""
    yy, xx = _grid(size)
    r = np.hypot(yy - size / 2, xx - size / 2)
    theta = np.arctan2(yy - size / 2, xx - size / 2)
    off = np.angle(np.exp(1j * (theta + math.pi / 2)))  # angle from straight up, wrapped to (-pi, pi]
    return (np.abs(r - radius) <= width / 2) & (np.abs(off) <= math.radians(degrees) / 2)


def sine_wave(amplitude: float, period: float, cycles: float, width: float = 3, size: int = 256
              ) -> tuple[np.ndarray, float, float]:
    """A vessel along y = amplitude * sin(2 pi x / period) for `cycles` periods, with its arc length and chord."""
    x = np.linspace(0, cycles * period, 20000)
    y = size / 2 + amplitude * np.sin(2 * math.pi * x / period)
    x = x + (size - cycles * period) / 2
    mask = np.zeros((size, size), bool)
    for py, px in zip(y, x):
        yy, xx = int(round(py)), int(round(px))
        r = int(math.ceil(width / 2))
        mask[yy - r:yy + r + 1, xx - r:xx + r + 1] |= _disc(r, width)
    arc = float(np.sum(np.hypot(np.diff(x), np.diff(y))))
    return mask, arc, float(np.hypot(x[-1] - x[0], y[-1] - y[0]))


def _disc(r: int, width: float) -> np.ndarray:
    yy, xx = np.mgrid[-r:r + 1, -r:r + 1]
    return np.hypot(yy, xx) <= width / 2


def sierpinski_triangle(order: int) -> np.ndarray:
    """Pascal's triangle mod 2 on a 2**order grid: box-counting dimension log 3 / log 2."""
    i = np.arange(2 ** order)
    return (i[:, None] & i[None, :]) == 0
