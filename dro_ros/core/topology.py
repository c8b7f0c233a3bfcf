"""Communication topologies: who may talk to whom.

A `Topology` is an undirected graph over agent indices 0..n-1. The builders below cover the cases the
algorithms are evaluated on: complete, ring, small world (the ring plus `phi * n` random chords, as in
the COHDA paper's evaluation), an explicit edge list, and unit-disk graphs (agents within a
communication radius of each other, eq. 5.13 of the CDS thesis).
"""
from __future__ import annotations

import random
from collections import deque
from dataclasses import dataclass
from typing import Iterable, Sequence

import numpy as np


class TopologyError(ValueError):
    """An invalid graph description (self-loop, index out of range, disconnected where it must not be)."""


@dataclass(frozen=True)
class Topology:
    """An undirected simple graph on `n` nodes; `neighbours[i]` is sorted ascending."""

    n: int
    neighbours: tuple[tuple[int, ...], ...]

    @classmethod
    def from_edges(cls, n: int, edges: Iterable[tuple[int, int]]) -> "Topology":
        """Build from an explicit edge list; duplicates are merged, self-loops and bad indices refused."""
        if n < 1:
            raise TopologyError(f"n: need at least one node, got {n}")
        adjacency: list[set[int]] = [set() for _ in range(n)]
        for k, (i, j) in enumerate(edges):
            if not (0 <= i < n and 0 <= j < n):
                raise TopologyError(f"edges[{k}]: ({i}, {j}) has a node outside 0..{n - 1}")
            if i == j:
                raise TopologyError(f"edges[{k}]: self-loop on node {i}")
            adjacency[i].add(j)
            adjacency[j].add(i)
        return cls(n, tuple(tuple(sorted(a)) for a in adjacency))

    @property
    def edges(self) -> list[tuple[int, int]]:
        return [(i, j) for i in range(self.n) for j in self.neighbours[i] if i < j]

    def degree(self, i: int) -> int:
        return len(self.neighbours[i])

    def hop_distances(self, source: int) -> list[int]:
        """Breadth-first hop count from `source` (-1 where unreachable)."""
        distance = [-1] * self.n
        distance[source] = 0
        queue = deque([source])
        while queue:
            i = queue.popleft()
            for j in self.neighbours[i]:
                if distance[j] < 0:
                    distance[j] = distance[i] + 1
                    queue.append(j)
        return distance

    def is_connected(self) -> bool:
        return min(self.hop_distances(0)) >= 0

    def components(self) -> list[list[int]]:
        """The connected components, each sorted, in order of their smallest node."""
        found: list[list[int]] = []
        seen: set[int] = set()
        for start in range(self.n):
            if start not in seen:
                part = [i for i, d in enumerate(self.hop_distances(start)) if d >= 0]
                seen.update(part)
                found.append(part)
        return found

    def diameter(self) -> int:
        """Longest shortest path; raises `TopologyError` on a disconnected graph."""
        if not self.is_connected():
            raise TopologyError("graph is disconnected: it has no finite diameter")
        return max(max(self.hop_distances(i)) for i in range(self.n))


def complete(n: int) -> Topology:
    return Topology.from_edges(n, ((i, j) for i in range(n) for j in range(i + 1, n)))


def ring(n: int) -> Topology:
    """Each node linked to its two ring neighbours (one for n = 2, none for n = 1)."""
    return Topology.from_edges(n, ((i, (i + 1) % n) for i in range(n) if n > 1 and i != (i + 1) % n))


def small_world(n: int, phi: float, seed: int) -> Topology:
    """A ring plus `round(phi * n)` distinct random chords drawn with `seed` (COHDA paper, Sec. 5).

    When fewer distinct chords exist than asked for, all of them are added.
    """
    if phi < 0:
        raise TopologyError(f"phi: must be non-negative, got {phi}")
    base = ring(n)
    present = set(base.edges)
    candidates = [(i, j) for i in range(n) for j in range(i + 1, n) if (i, j) not in present]
    count = min(round(phi * n), len(candidates))
    chords = random.Random(seed).sample(candidates, count)
    return Topology.from_edges(n, [*base.edges, *chords])


def unit_disk(positions: Sequence[Sequence[float]], radius: float) -> Topology:
    """Link agents whose Euclidean distance is at most `radius` (thesis eq. 5.13)."""
    points = np.asarray(positions, dtype=float)
    if points.ndim != 2:
        raise TopologyError(f"positions: expected an (n, d) array, got shape {points.shape}")
    if radius <= 0:
        raise TopologyError(f"radius: must be positive, got {radius}")
    distance = np.linalg.norm(points[:, None, :] - points[None, :, :], axis=-1)
    rows, cols = np.nonzero(np.triu(distance <= radius, k=1))
    return Topology.from_edges(len(points), zip(rows.tolist(), cols.tolist()))
