"""Vessel-tree measurements from a binary vessel mask: per segment and per tree, validated on phantoms.

Per segment (between junctions and end points of the pruned skeleton, see vessel_graph):
- length: along the smoothed centreline (centreline.py), plus the distance from a free end's last skeleton pixel
  to the vessel's tip (distance transform - 0.5), so a tube of length L measures L;
- chord, tortuosity = length of the smoothed centreline / chord (1 for a straight vessel), and curvature = total
  absolute curvature / length (rad per pixel; 1/R for an arc of radius R), for segments with chord >= MIN_CHORD;
- calibre: the vessel pixels nearest to the segment's skeleton pixels (their area) over the centreline length they
  cover: exact for a straight tube of any width and angle, where 2 x distance transform takes only odd-ish steps.
Per tree: total length, vessel density in the FOV, length-weighted mean and median calibre, junctions (clusters
of >= 3 segment ends), end points, segments, tortuosity and curvature, branching angles at bifurcations (the angle
between the two daughters: the pair of the three branches with the smallest angle between them, directions taken
over 12 px starting 2 junction radii out), and the box-counting fractal dimension of the skeleton.
Lengths are in pixels of the mask given; with a pixel size, also in micrometres (`_um`) or millimetres (`_mm`).

Scale: a mask whose field of view is 1.5 times `fov_px` pixels across or more (a 4752x3168 photograph's is ~3000)
is measured on a copy shrunk by the integer factor that brings it nearest to `fov_px` across (a pixel is vessel where
more than half of its block is), and its lengths and positions are given back in the mask's own pixels. The time then
depends on the vessels, not on the camera's pixel count. At the default 1024 px across a 45° field (~13 µm a pixel) the thinnest vessels annotators
draw (one DRIVE pixel, ~25 µm) are still two pixels wide; a model that sees the field of view ~480 px across resolves
nothing finer.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import ndimage as ndi

from retina.data.images import block_mean

from retina.measure.centreline import Centreline, fit_centreline
from retina.measure.vessel_graph import FREE, VesselGraph, vessel_graph

MEASURES = ("length", "density", "calibre_mean", "calibre_median", "junctions", "end_points", "segments",
            "tortuosity_median", "curvature_mean", "branching_angle_median", "fractal_dimension")
UNITS = {"length": "px", "density": "fraction of FOV", "calibre_mean": "px", "calibre_median": "px",
         "junctions": "count", "end_points": "count", "segments": "count", "tortuosity_median": "arc/chord",
         "curvature_mean": "rad/px", "branching_angle_median": "degrees", "fractal_dimension": "-"}
MIN_CHORD = 10.0  # pixels: shorter segments get no tortuosity or curvature (a few pixels say nothing about shape)
ANGLE_SPAN = 12.0  # pixels of centreline over which a branch's direction at a junction is taken
SPUR_RATIO = 1.0  # the library's default spur threshold (vessel_graph); the pipeline's is params.yaml's
MEASURE_FOV_PX = 1024.0  # px across the field of view that much wider masks are shrunk to (see the module text)
UM_PER_DEGREE = 288.0  # micrometres of adult retina per degree of visual angle (Drasdo & Fowler 1974); likewise


@dataclass(frozen=True)
class TreeMeasures:
    """The measures of one vessel tree (see MEASURES) and its per-segment table."""

    summary: dict[str, float]
    segments: pd.DataFrame
    pixel_factor: int = 1  # the mask's pixels per pixel it was measured at (1: measured as given)


def box_counting_dimension(image: np.ndarray) -> float:
    """Slope of log(boxes containing foreground) against log(1 / box size), over box sizes 2, 4, 8, ... up to a
    quarter of the longer side of the foreground's bounding box, the grid anchored at its corner; NaN with fewer
    than 3 sizes."""
    rows, cols = np.nonzero(np.asarray(image, bool))
    if not rows.size:
        return math.nan
    box = np.asarray(image, bool)[rows.min():rows.max() + 1, cols.min():cols.max() + 1]
    sizes = 2 ** np.arange(1, int(math.log2(max(max(box.shape) / 4, 1))) + 1)
    if len(sizes) < 3:
        return math.nan
    counts = []
    for s in sizes:
        h, w = -(-box.shape[0] // s) * s, -(-box.shape[1] // s) * s
        padded = np.zeros((h, w), bool)
        padded[:box.shape[0], :box.shape[1]] = box
        counts.append(np.count_nonzero(padded.reshape(h // s, s, w // s, s).any(axis=(1, 3))))
    return float(-np.polyfit(np.log(sizes), np.log(counts), 1)[0])


def fov_diameter(fov: np.ndarray) -> float:
    """Diameter in pixels of the disc of the field of view's area."""
    return 2 * math.sqrt(np.count_nonzero(fov) / math.pi)


def resample_for_measures(mask: np.ndarray, fov: np.ndarray, fov_px: float) -> tuple[np.ndarray, np.ndarray, int]:
    """The mask and field of view shrunk k-fold, k the integer nearest to the field of view's diameter over `fov_px`,
    and k (1 and the arrays unchanged when that is 1). A pixel is vessel where more than half of its k x k block is;
    exact halves (even k) alternate on a checkerboard, so that a vessel keeps its width on average."""
    k = round(fov_diameter(fov) / fov_px)
    if k <= 1:
        return mask, fov, 1
    return _majority(block_mean(mask.view(np.uint8), k)), _majority(block_mean(fov.view(np.uint8), k)), k


def _majority(share: np.ndarray) -> np.ndarray:
    rows, cols = np.indices(share.shape, sparse=True)
    return (share > 0.5) | ((share == 0.5) & ((rows + cols) % 2 == 0))


def um_per_pixel_from_fov(fov: np.ndarray, fov_degrees: float, um_per_degree: float) -> float:
    """Pixel size from the field of view: a camera of `fov_degrees` sees fov_degrees x um_per_degree micrometres of
    retina across the FOV disc, whose diameter in pixels is that of a disc of the FOV's area."""
    diameter = fov_diameter(fov)
    return fov_degrees * um_per_degree / diameter if diameter else math.nan


def _calibres(graph: VesselGraph, mask: np.ndarray, covered: np.ndarray) -> np.ndarray:
    """Area of the vessel pixels nearest to each segment's own (non-junction) skeleton pixels / covered length."""
    owner = np.zeros(mask.shape, int)
    for i, (pixels, ends) in enumerate(zip(graph.paths, graph.ends)):
        inner = pixels[[e == FREE for e in ends[:1]] + [True] * (len(pixels) - 2) + [e == FREE for e in ends[1:]]]
        owner[tuple(inner.T)] = i + 1
    _, (rows, cols) = ndi.distance_transform_edt(~graph.skeleton, return_indices=True)
    area = np.bincount(owner[rows[mask], cols[mask]], minlength=len(graph.paths) + 1)[1:]
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(covered > 0, area / covered, np.nan)


def _branching_angles(graph: VesselGraph, lines: list[Centreline], radius: np.ndarray) -> list[float]:
    """Angle (degrees) between the two daughters at every junction of exactly three segment ends."""
    leaving: dict[int, list[np.ndarray]] = {}
    for line, ends in zip(lines, graph.ends):
        for side, junction in enumerate(ends):
            if junction == FREE:
                continue
            y, x = np.round(graph.junctions[junction]).astype(int)
            start = min(2 * radius[y, x], 0.4 * line.length)
            if side == 0:
                leaving.setdefault(junction, []).append(line.direction(start, start + ANGLE_SPAN))
            else:
                leaving.setdefault(junction, []).append(line.direction(line.length - start,
                                                                       line.length - start - ANGLE_SPAN))
    angles = []
    for directions in leaving.values():
        if len(directions) == 3:
            pairs = [(0, 1), (0, 2), (1, 2)]
            angles.append(min(math.degrees(math.acos(np.clip(directions[i] @ directions[j], -1, 1)))
                              for i, j in pairs))
    return angles


def segment_table(graph: VesselGraph, mask: np.ndarray, radius: np.ndarray) -> tuple[pd.DataFrame, list[Centreline]]:
    """One row per segment: ends, length, chord, tortuosity, curvature, calibre (pixels); `radius` is the mask's
    distance transform."""
    lines = [fit_centreline(p) for p in graph.paths]
    rows, covered = [], []
    for i, (pixels, ends, line) in enumerate(zip(graph.paths, graph.ends, lines)):
        tips = [radius[tuple(p)] - 0.5 for p, e in zip((pixels[0], pixels[-1]), ends) if e == FREE]
        links = [np.hypot(*(pixels[k] - pixels[j])) / 2 for (k, j), e in zip(((0, 1), (-1, -2)), ends)
                 if e != FREE and len(pixels) > 1]
        length = line.length + sum(tips)
        covered.append(length - sum(links))
        shaped = line.chord >= MIN_CHORD
        rows.append({"segment": i, "start_junction": ends[0], "end_junction": ends[1],
                     "y0": int(pixels[0][0]), "x0": int(pixels[0][1]), "y1": int(pixels[-1][0]),
                     "x1": int(pixels[-1][1]), "length": length, "chord": line.chord,
                     "tortuosity": line.length / line.chord if shaped else math.nan,
                     "curvature": line.mean_curvature() if shaped else math.nan})
    table = pd.DataFrame(rows, columns=["segment", "start_junction", "end_junction", "y0", "x0", "y1", "x1",
                                        "length", "chord", "tortuosity", "curvature"])
    table["calibre"] = _calibres(graph, mask, np.asarray(covered, float))
    return table, lines


def vessel_measures(mask: np.ndarray, fov: np.ndarray | None = None, spur_ratio: float = SPUR_RATIO,
                    um_per_pixel: float | None = None, fov_px: float = MEASURE_FOV_PX) -> TreeMeasures:
    """Measure the vessel tree of a binary mask inside `fov` (whole image when None), at `fov_px` pixels across the
    field of view when it is wider; see the module text. Lengths, calibres, curvatures and positions are in the
    mask's own pixels either way."""
    mask = np.asarray(mask, bool)
    fov = np.ones(mask.shape, bool) if fov is None else np.asarray(fov, bool)
    density = float(np.count_nonzero(mask & fov) / max(np.count_nonzero(fov), 1))
    mask, fov, factor = resample_for_measures(mask & fov, fov, fov_px)
    mask = mask & fov
    graph = vessel_graph(mask, spur_ratio)
    radius = ndi.distance_transform_edt(mask)
    table, lines = segment_table(graph, mask, radius)
    angles = _branching_angles(graph, lines, radius)
    shaped = table.dropna(subset=["tortuosity"])
    weights = table["length"].where(table["calibre"].notna(), 0)
    summary = {
        "length": float(table["length"].sum()) * factor,
        "density": density,
        "calibre_mean": (float(np.average(table["calibre"].fillna(0), weights=weights)) if weights.sum()
                         else math.nan) * factor,
        "calibre_median": (float(table["calibre"].median()) if len(table) else math.nan) * factor,
        "junctions": float(sum(graph.degree(j) >= 3 for j in range(len(graph.junctions)))),
        "end_points": float(sum(e.count(FREE) for e in graph.ends)),
        "segments": float(len(table)),
        "tortuosity_median": float(shaped["tortuosity"].median()) if len(shaped) else math.nan,
        "curvature_mean": (float(np.average(shaped["curvature"], weights=shaped["length"])) if len(shaped)
                           else math.nan) / factor,
        "branching_angle_median": float(np.median(angles)) if angles else math.nan,
        "fractal_dimension": box_counting_dimension(graph.skeleton),
    }
    if factor != 1:
        table = table.assign(**{c: table[c] * factor + (factor - 1) // 2 for c in ("y0", "x0", "y1", "x1")},
                             **{c: table[c] * factor for c in ("length", "chord", "calibre")},
                             curvature=table["curvature"] / factor)
    if um_per_pixel:
        summary.update(_in_micrometres(summary, um_per_pixel))
        table = table.assign(length_um=table["length"] * um_per_pixel, calibre_um=table["calibre"] * um_per_pixel,
                             curvature_per_mm=table["curvature"] * 1000 / um_per_pixel)
    return TreeMeasures(summary, table, factor)


def _in_micrometres(summary: dict[str, float], um_per_pixel: float) -> dict[str, float]:
    return {"um_per_pixel": um_per_pixel, "length_mm": summary["length"] * um_per_pixel / 1000,
            "calibre_mean_um": summary["calibre_mean"] * um_per_pixel,
            "calibre_median_um": summary["calibre_median"] * um_per_pixel,
            "curvature_mean_per_mm": summary["curvature_mean"] * 1000 / um_per_pixel}
