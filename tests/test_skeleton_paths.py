"""The skeleton's path graph against paths counted by hand."""
from __future__ import annotations

import math

import numpy as np
import pytest

from retina.measure.skeleton_paths import skeleton_paths


def _paths(skeleton: np.ndarray) -> list[list[tuple[int, int]]]:
    p = skeleton_paths(skeleton)
    return [[tuple(int(v) for v in p.coordinates[i]) for i in p.path(k)] for k in range(len(p))]


def test_a_plus_sign_is_four_arms_from_its_centre():
    plus = np.zeros((9, 9), bool)
    plus[4, 1:8] = plus[1:8, 4] = True
    p = skeleton_paths(plus)
    assert len(p) == 4 and p.lengths.tolist() == [3.0] * 4
    assert all(path[0] == (4, 4) or path[-1] == (4, 4) for path in _paths(plus))  # every arm starts or ends there
    assert p.tip_to_junction().all()
    assert sorted(p.degrees.tolist()) == [1] * 4 + [2] * 8 + [4]


def test_diagonal_steps_weigh_the_square_root_of_two():
    line = np.eye(6, dtype=bool)
    line[5, 5] = False
    line[4, 5] = True  # five diagonal steps then one straight: (0,0) ... (4,4), (4,5)
    p = skeleton_paths(line)
    assert len(p) == 1 and p.lengths[0] == pytest.approx(4 * math.sqrt(2) + 1)
    assert not p.tip_to_junction().any()  # tip to tip


def test_a_junction_cluster_is_a_tree_not_a_triangle():
    """Three junction pixels touching each other: only two of their three links stay, so no loop is walked."""
    t = np.zeros((9, 9), bool)
    t[4, 0:9] = True
    t[5, 4] = True  # a stub below the line makes (4,3), (4,4), (4,5) and (5,4) a cluster
    t[6:9, 4] = True
    paths = _paths(t)
    assert len(paths) == len({tuple(sorted((p[0], p[-1]))) for p in paths})  # no two paths between the same nodes
    first, last = skeleton_paths(t).ends()
    assert all(a != b for a, b in zip(first, last))  # no cycle


def test_an_isolated_ring_is_one_closed_path():
    ring = np.zeros((7, 7), bool)
    ring[1, 2:5] = ring[5, 2:5] = ring[2:5, 1] = ring[2:5, 5] = True
    p = skeleton_paths(ring)
    assert len(p) == 1
    first, last = p.ends()
    assert first[0] == last[0] and len(p.path(0)) == ring.sum() + 1
    assert p.lengths[0] == pytest.approx(8 + 4 * math.sqrt(2))


def test_nothing_to_walk():
    assert len(skeleton_paths(np.zeros((5, 5), bool))) == 0
    speck = np.zeros((5, 5), bool)
    speck[2, 2] = True
    assert len(skeleton_paths(speck)) == 0
