"""The vessel tree as a graph: segments between junctions and end points, built from the skeleton.

skeleton_paths turns the 8-connected skeleton into paths between nodes (skan's algorithm), each cluster of junction
pixels already collapsed to a minimum spanning tree. On top of it this module
- fills holes of at most HOLE_AREA pixels first (each would make a loop in the skeleton);
- prunes spurs: a path from a junction to a free end shorter than `spur_ratio` times the vessel's calibre at the
  junction (2 x distance transform) is thinning noise, e.g. the two corner spurs at the flat end of a tube;
  pruning repeats until none is left, because removing a spur can expose another;
- merges junction nodes closer than the vessel's radii (adjacent junction pixels, or a wide branching region that
  the skeleton splits into two nodes) into one junction, and drops the links between them.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage as ndi, sparse
from scipy.sparse import csgraph
from skimage.morphology import remove_small_holes, thin

from retina.measure.skeleton_paths import SkeletonPaths, skeleton_paths

_MAX_PRUNING_ROUNDS = 10
HOLE_AREA = 8  # px: smaller holes in a vessel mask are gaps between touching vessels, filled before thinning
FREE = -1  # the junction id of a free end


@dataclass(frozen=True)
class VesselGraph:
    """Segments of a pruned skeleton: ordered pixel paths and the junction (or FREE) at each end."""

    skeleton: np.ndarray  # (H, W) bool, after pruning
    paths: list[np.ndarray]  # each (n, 2) int (row, col), ordered from its first end to its second
    ends: list[tuple[int, int]]  # junction id at each end of a path, FREE for an end point
    junctions: np.ndarray  # (J, 2) float: the centre of each junction's pixel cluster

    def degree(self, junction: int) -> int:
        """Number of path ends at a junction."""
        return sum(e.count(junction) for e in self.ends)


def _spurs(paths: SkeletonPaths, calibre: np.ndarray, spur_ratio: float) -> list[int]:
    """Indices of tip-to-junction paths shorter than spur_ratio x the calibre at their junction."""
    first, last = paths.ends()
    out = []
    for i in np.flatnonzero(paths.tip_to_junction()):
        junction = first[i] if paths.degrees[first[i]] > 2 else last[i]
        y, x = paths.coordinates[junction]
        if paths.lengths[i] < spur_ratio * calibre[y, x]:
            out.append(int(i))
    return out


def _without_isolated_pixels(skeleton: np.ndarray) -> np.ndarray:
    """The skeleton less its pixels with no 8-connected neighbour: a one-pixel fragment has no path to measure."""
    neighbours = ndi.convolve(skeleton.astype(np.uint8), np.ones((3, 3), np.uint8), mode="constant") - 1
    return skeleton & (neighbours > 0)


def _prune(paths: SkeletonPaths, skeleton: np.ndarray, spurs: list[int]) -> np.ndarray:
    """The skeleton less the spurs' own pixels (their junction pixels stay), thinned again."""
    out = skeleton.copy()
    for i in spurs:
        pixels = paths.path(i)
        pixels = pixels[paths.degrees[pixels] <= 2]
        out[tuple(paths.coordinates[pixels].T)] = False
    return _without_isolated_pixels(thin(out))


def vessel_graph(mask: np.ndarray, spur_ratio: float) -> VesselGraph:
    """Skeletonise a binary vessel mask, prune its spurs and return its segments and junctions."""
    mask = remove_small_holes(np.asarray(mask, bool), max_size=HOLE_AREA)
    skeleton = _without_isolated_pixels(thin(mask))
    calibre = 2 * ndi.distance_transform_edt(mask)
    rounds = 0
    while True:
        if not skeleton.any():
            return VesselGraph(skeleton, [], [], np.zeros((0, 2)))
        paths = skeleton_paths(skeleton)
        spurs = _spurs(paths, calibre, spur_ratio) if rounds < _MAX_PRUNING_ROUNDS else []
        if not spurs:
            break
        skeleton = _prune(paths, skeleton, spurs)
        rounds += 1
    return _merge_junctions(paths, skeleton, calibre / 2)


def _merge_junctions(paths: SkeletonPaths, skeleton: np.ndarray, radius: np.ndarray) -> VesselGraph:
    """Segments between junctions, where junction nodes joined by a path shorter than the sum of the vessel radii
    at its two ends (adjacent junction pixels, or two nodes inside one branching region) count as one junction."""
    nodes = np.flatnonzero(paths.degrees > 2)
    number = np.full(len(paths.degrees), FREE)
    number[nodes] = np.arange(len(nodes))
    first, last = paths.ends()
    at = paths.coordinates
    inside = [number[a] != FREE and number[b] != FREE and length < radius[tuple(at[a])] + radius[tuple(at[b])]
              for a, b, length in zip(first, last, paths.lengths)]
    pairs = np.array([(number[a], number[b]) for a, b, keep in zip(first, last, inside) if keep]).reshape(-1, 2)
    links = sparse.coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(len(nodes), len(nodes)))
    count, junction_of = csgraph.connected_components(links, directed=False)
    centres = np.array([at[nodes[junction_of == j]].mean(axis=0) for j in range(count)]).reshape(-1, 2)
    segments, ends = [], []
    for i in np.flatnonzero(~np.asarray(inside, bool)):
        segments.append(at[paths.path(i)])
        ends.append(tuple(int(junction_of[number[n]]) if number[n] != FREE else FREE for n in (first[i], last[i])))
    return VesselGraph(skeleton, segments, ends, centres)
