"""A one-pixel skeleton as paths between its nodes (end points and junction pixels), with numpy and scipy only.

The algorithm is skan's (Nunez-Iglesias et al. 2018, `skan.csr.Skeleton`): an 8-connected pixel graph whose edges
weigh 1 or sqrt(2); inside each cluster of junction pixels (more than two neighbours) only a minimum spanning tree of
their links is kept, so a junction is not a triangle; then every path is walked from each node that is not a path
pixel (neighbours other than two) along path pixels to the next node, and what remains are isolated cycles. It gives
skan's paths, in skan's order, without numba: skan compiles its numba classes again in every process (~4 s, more
than measuring a photograph takes), which a command-line predict pays on every call.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.sparse import csgraph

_OFFSETS = [(dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1) if (dy, dx) != (0, 0)]


@dataclass(frozen=True)
class SkeletonPaths:
    """The paths of a skeleton: pixel coordinates, node degrees and each path's pixels, from end to end."""

    coordinates: np.ndarray  # (N, 2) int: (row, col) of each skeleton pixel
    degrees: np.ndarray  # (N,) int: neighbours of each pixel in the graph
    indptr: np.ndarray  # path i is pixels indices[indptr[i]:indptr[i + 1]]
    indices: np.ndarray
    lengths: np.ndarray  # (paths,) float: 1 per straight step, sqrt(2) per diagonal one

    def __len__(self) -> int:
        return len(self.lengths)

    def path(self, i: int) -> np.ndarray:
        """The pixel indices of path i, both ends included."""
        return self.indices[self.indptr[i]:self.indptr[i + 1]]

    def ends(self) -> tuple[np.ndarray, np.ndarray]:
        """The first and the last pixel index of every path."""
        return self.indices[self.indptr[:-1]], self.indices[self.indptr[1:] - 1]

    def tip_to_junction(self) -> np.ndarray:
        """Whether each path joins a free end (one neighbour) to a junction."""
        first, last = self.ends()
        tips = (self.degrees[first] == 1) ^ (self.degrees[last] == 1)
        return tips & (first != last)


def pixel_graph(skeleton: np.ndarray) -> tuple[sparse.csr_matrix, np.ndarray]:
    """The skeleton's 8-connected pixel graph (edge weights 1 and sqrt(2)), junction clusters reduced to their
    minimum spanning tree, and each node's (row, col)."""
    rows, cols = np.nonzero(skeleton)
    number = np.full(np.add(skeleton.shape, 2), -1)
    number[rows + 1, cols + 1] = np.arange(len(rows))
    src, dst, weight = [], [], []
    for dy, dx in _OFFSETS:
        other = number[rows + 1 + dy, cols + 1 + dx]
        keep = other >= 0
        src.append(np.flatnonzero(keep))
        dst.append(other[keep])
        weight.append(np.full(keep.sum(), np.hypot(dy, dx)))
    graph = sparse.csr_matrix((np.concatenate(weight), (np.concatenate(src), np.concatenate(dst))),
                              shape=(len(rows), len(rows)))
    return _junction_trees(graph), np.column_stack([rows, cols])


def _junction_trees(graph: sparse.csr_matrix) -> sparse.csr_matrix:
    """The graph less the links between junction pixels (degree >= 3) that no minimum spanning tree of them keeps."""
    junction = np.diff(graph.indptr) >= 3
    links = graph.tocoo()
    inside = junction[links.row] & junction[links.col]
    among = sparse.csr_matrix((links.data[inside], (links.row[inside], links.col[inside])), shape=graph.shape)
    tree = csgraph.minimum_spanning_tree(among)
    return graph - (among - (tree + tree.T))


def skeleton_paths(skeleton: np.ndarray) -> SkeletonPaths:
    """Every path of a one-pixel skeleton between nodes (pixels with other than two neighbours), then the isolated
    cycles."""
    graph, coordinates = pixel_graph(np.asarray(skeleton, bool))
    graph.sort_indices()
    degrees = np.diff(graph.indptr)
    neighbours = np.split(graph.indices, graph.indptr[1:-1])
    weights = np.split(graph.data, graph.indptr[1:-1])
    visited: set[tuple[int, int]] = set()
    paths: list[list[int]] = []
    lengths: list[float] = []

    def walk(node: int, neighbour: int) -> None:
        start, path, length = node, [node], 0.0
        while (node, neighbour) not in visited:
            visited.update({(node, neighbour), (neighbour, node)})
            path.append(neighbour)
            length += weights[node][np.searchsorted(neighbours[node], neighbour)]
            if degrees[neighbour] != 2 or neighbour == start:
                break
            first, second = neighbours[neighbour]
            node, neighbour = neighbour, (first if first != node else second)
        paths.append(path)
        lengths.append(length)

    for node in np.flatnonzero((degrees == 1) | (degrees > 2)):
        for neighbour in neighbours[node]:
            if (node, neighbour) not in visited:
                walk(int(node), int(neighbour))
    for node in np.flatnonzero(degrees > 0):  # what is left: isolated cycles
        neighbour = int(neighbours[node][0])
        if (node, neighbour) not in visited:
            walk(int(node), neighbour)
    sizes = [len(p) for p in paths]
    return SkeletonPaths(coordinates, degrees, np.concatenate([[0], np.cumsum(sizes)]).astype(int),
                         np.array([i for p in paths for i in p], int), np.array(lengths, float))
