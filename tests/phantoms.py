"""Binary vessel phantoms whose length, width, tortuosity, curvature and branching angles are known.

Every phantom is drawn the same on every CPU. A pixel is in or out by a comparison that involves no transcendental
function evaluated per pixel: integer arithmetic where the shape allows it (arcs, discs), otherwise products and sums
of scalars, which IEEE arithmetic rounds the same everywhere (numpy dispatches `arctan2`, `hypot`, `sin` ... to
different kernels by CPU, and their last-bit differences decide pixels that lie exactly on a boundary). Where a
coordinate must be rounded (the sine wave), the builder refuses a sample that lies within 1e-9 px of a rounding tie.
"""
from __future__ import annotations

import math
from fractions import Fraction

import numpy as np

TIE_GUARD = 1e-9  # px: a rounded coordinate this close to .5 could round either way on another CPU


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
    dy, dx = yy - p[0] - t * d[0], xx - p[1] - t * d[1]
    return dy * dy + dx * dx <= (width / 2) ** 2


def y_junction(angle: float, rotation: float = 0.0, size: int = 256) -> np.ndarray:
    """A trunk 5 px wide meeting two daughters 3 px wide that leave `angle` degrees apart, all 100 px long from
    the centre (`Y_ARM`)."""
    centre = np.array([size / 2, size / 2])

    def towards(degrees: float) -> np.ndarray:
        a = math.radians(degrees + rotation)
        return centre + Y_ARM * np.array([-math.cos(a), math.sin(a)])

    mask = capsule(size, centre, towards(180), 5)
    for side in (-1, 1):
        mask |= capsule(size, centre, towards(side * angle / 2), 3)
    return mask


Y_ARM = 100


def _cos_squared(degrees: float) -> Fraction:
    """cos^2 of an angle as an exact fraction (30, 45, 60, 90, 135 degrees ... give 3/4, 1/2, 1/4, 0, 1/2)."""
    return Fraction(math.cos(math.radians(degrees)) ** 2).limit_denominator(10_000)


def circular_arc(radius: int, degrees: float, width: int = 3, size: int = 256) -> np.ndarray:
    """An arc of `degrees` on a circle of `radius` around the image centre, symmetric about the upward direction:
    the pixels whose centre lies within width/2 of the circle and within degrees/2 of straight up, decided in
    integers (pixels exactly on a cut are in, on both sides alike)."""
    if size % 2 or int(radius) != radius or int(width) != width:
        raise ValueError("circular_arc needs an even size and integer radius and width")
    c = size // 2
    dy, dx = (g.astype(np.int64) - c for g in np.mgrid[:size, :size])
    d2, up = dy * dy + dx * dx, -dy
    ring = ((2 * radius - width) ** 2 <= 4 * d2) & (4 * d2 <= (2 * radius + width) ** 2)
    half = degrees / 2
    cos2 = _cos_squared(half)  # within `half` of up: up >= |p| cos(half), squared with its sign
    if half <= 90:
        inside = (up >= 0) & (up * up * cos2.denominator >= d2 * cos2.numerator)
    else:
        inside = (up >= 0) | (up * up * cos2.denominator <= d2 * cos2.numerator)
    return ring & inside


def arc_tortuosity(degrees: float) -> float:
    """Arc over chord of a circular arc of `degrees`: phi / (2 sin(phi / 2))."""
    phi = math.radians(degrees)
    return phi / (2 * math.sin(phi / 2))


def arc_tortuosity_tolerance(radius: float, degrees: float, end_px: float = 1.0, spline: float = 0.005) -> float:
    """How far a measured arc/chord may be from arc_tortuosity: each end of the measured centreline may sit
    `end_px` pixels further along or short of the cut (the pixel grid and thinning at a square end), moving phi by
    end_px / radius per end, times |dT/dphi|; plus the smoothing spline's relative error `spline`."""
    phi = math.radians(degrees)
    s, c = math.sin(phi / 2), math.cos(phi / 2)
    slope = abs((2 * s - phi * c) / (4 * s * s))
    return slope * 2 * end_px / radius + spline * arc_tortuosity(degrees)


def sine_wave(amplitude: float, period: float, cycles: float, width: float = 3, size: int = 256
              ) -> tuple[np.ndarray, float, float]:
    """A vessel along y = amplitude * sin(2 pi x / period) for `cycles` periods, with its arc length and chord: discs
    of `width` stamped at 20,000 samples rounded to the pixel grid."""
    x = np.linspace(0, cycles * period, 20000)
    y = size / 2 + amplitude * np.array([math.sin(2 * math.pi * v / period) for v in x])
    x = x + (size - cycles * period) / 2
    for coord in (x, y):
        if np.any(np.abs(np.abs(coord - np.floor(coord)) - 0.5) < TIE_GUARD):
            raise ValueError("a sample lies on a rounding tie: the phantom could differ between CPUs")
    mask = np.zeros((size, size), bool)
    r = int(math.ceil(width / 2))
    disc = _disc(r, width)
    for py, px in zip(np.round(y).astype(int), np.round(x).astype(int)):
        mask[py - r:py + r + 1, px - r:px + r + 1] |= disc
    arc = float(np.sum(np.hypot(np.diff(x), np.diff(y))))
    return mask, arc, float(np.hypot(x[-1] - x[0], y[-1] - y[0]))


def _disc(r: int, width: float) -> np.ndarray:
    yy, xx = np.mgrid[-r:r + 1, -r:r + 1]
    return 4 * (yy * yy + xx * xx) <= width * width


def sierpinski_triangle(order: int) -> np.ndarray:
    """Pascal's triangle mod 2 on a 2**order grid: box-counting dimension log 3 / log 2."""
    i = np.arange(2 ** order)
    return (i[:, None] & i[None, :]) == 0
