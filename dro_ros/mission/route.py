"""A robot's way to its goal around the static obstacles, and the target a window's cost to go pulls toward.

A window's cost to go w ||s_i(K) - g||^2 toward the goal g itself has a stable local minimum on any face of
a polygon that the straight line to the goal crosses: the foot of the perpendicular from g to the face,
where the pull has no component along the face; a robot that reaches it stays (the antipodal scenario's
deadlock around its square). A disc has none: on its boundary the pull has a component around the disc
everywhere but at the one point straight behind it, an unstable balance. So when the straight line to
the goal crosses a polygon, the target follows the shortest route to the goal instead:

1. corners: each polygon's vertices moved out by d = clearance + margin (the vertices of the polygon
   offset by d: v + d (n_1 + n_2) / (1 + n_1 . n_2) for the unit normals n_1, n_2 of the faces meeting at
   v), and for each disc the 8 corners of the octagon circumscribed about the disc grown by d;
2. the visibility graph on start, corners and goal: an edge where the segment keeps at least
   clearance + margin / 2 from every obstacle (or no less than its own ends keep, for a start or goal
   nearer than that);
3. the shortest path (Dijkstra) from start to goal;
4. the target: the point `reach` metres along that path (the goal if the path is shorter), or the path's
   first corner when the straight line to that point is not clear.

When no polygon is in the way the target is the goal: routing robots around discs too would send robots
that can slide around a disc on either side to the same corners. Pure numpy/scipy: no rclpy, no transport.
"""
from __future__ import annotations

import functools
import json
import math
from typing import Sequence

import numpy as np
from scipy.sparse.csgraph import dijkstra

from dro_ros.trajectory.obstacles import DiscObstacle, Obstacle, PolygonObstacle, obstacles_from_config

DISC_CORNERS = 8


def segment_distances(obstacle: Obstacle, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Distance of each segment a[k]-b[k] ((S, 2) each) to `obstacle`; <= 0 when the segment meets it."""
    a, b = np.atleast_2d(np.asarray(a, dtype=float)), np.atleast_2d(np.asarray(b, dtype=float))
    if isinstance(obstacle, DiscObstacle):
        return _point_segment(obstacle.centre[None], a, b)[:, 0] - obstacle.radius
    ends = np.minimum(obstacle.distance(a), obstacle.distance(b))
    corners = np.min(_point_segment(obstacle.vertices, a, b), axis=1)
    return np.where(_crosses(obstacle, a, b), np.minimum(ends, 0.0), np.minimum(ends, corners))


def corners(obstacles: Sequence[Obstacle], offset: float) -> np.ndarray:
    """Step 1 of the module docstring: (C, 2) points at `offset` outside the obstacles."""
    points = []
    for obstacle in obstacles:
        if isinstance(obstacle, DiscObstacle):
            angles = 2 * np.pi * (np.arange(DISC_CORNERS) + 0.5) / DISC_CORNERS
            radius = (obstacle.radius + offset) / math.cos(math.pi / DISC_CORNERS)
            points.append(obstacle.centre + radius * np.column_stack([np.cos(angles), np.sin(angles)]))
        else:
            before, after = np.roll(obstacle.normals, 1, axis=0), obstacle.normals   # the faces meeting at v
            points.append(obstacle.vertices
                          + offset * (before + after) / (1 + np.sum(before * after, axis=1, keepdims=True)))
    return np.concatenate(points) if points else np.zeros((0, 2))


def route(start: np.ndarray, goal: np.ndarray, obstacles: Sequence[Obstacle], clearance: float,
          margin: float) -> np.ndarray:
    """Steps 1-3: the shortest path (P, 2) from `start` to `goal`, both included; the straight line when it is
    clear or when no route exists."""
    start, goal = np.asarray(start, dtype=float)[:2], np.asarray(goal, dtype=float)[:2]
    if not obstacles or _clear(obstacles, clearance + margin / 2, start[None], goal[None])[0]:
        return np.stack([start, goal])
    points, between = _corner_graph(json.dumps([o.to_config() for o in obstacles]), clearance, margin)
    nodes = np.vstack([start, goal, points])
    n = len(nodes)
    lengths = np.full((n, n), np.inf)
    lengths[2:, 2:] = between
    for end in (0, 1):   # the start's and the goal's edges to the corners (and to each other)
        others = np.arange(n) != end
        clear = _clear(obstacles, clearance + margin / 2, np.repeat(nodes[end][None], others.sum(), 0), nodes[others])
        reach = np.where(clear, np.linalg.norm(nodes[others] - nodes[end], axis=1), np.inf)
        lengths[end, others] = np.minimum(lengths[end, others], reach)
        lengths[others, end] = lengths[end, others]
    graph = np.where(np.isfinite(lengths), lengths, 0.0)
    distance, previous = dijkstra(graph, indices=0, return_predecessors=True)
    if not np.isfinite(distance[1]):
        return np.stack([start, goal])
    path, node = [1], 1
    while node != 0:
        node = int(previous[node])
        path.append(node)
    return nodes[path[::-1]]


def route_target(start: np.ndarray, goal: np.ndarray, obstacles: Sequence[Obstacle], *, clearance: float,
                 margin: float, reach: float) -> np.ndarray:
    """Step 4: the window's target for a robot at `start`; `reach` (m) is about how far one window can go."""
    start, goal = np.asarray(start, dtype=float)[:2], np.asarray(goal, dtype=float)[:2]
    polygons = [o for o in obstacles if isinstance(o, PolygonObstacle)]
    if not polygons or _clear(polygons, clearance + margin / 2, start[None], goal[None])[0]:
        return goal
    path = route(start, goal, obstacles, clearance, margin)
    if len(path) == 2:
        return path[1]
    legs = np.linalg.norm(np.diff(path, axis=0), axis=1)
    along = np.concatenate([[0.0], np.cumsum(legs)])
    if reach >= along[-1]:
        target = path[-1]
    else:
        k = int(np.searchsorted(along, reach, side="right")) - 1
        target = path[k] + (reach - along[k]) / legs[k] * (path[k + 1] - path[k])
    if _clear(obstacles, clearance + margin / 2, path[:1], target[None])[0]:
        return target
    return path[1]


@functools.lru_cache(maxsize=16)
def _corner_graph(configs: str, clearance: float, margin: float) -> tuple[np.ndarray, np.ndarray]:
    """The corners of the obstacles (`configs`, JSON) and their edge lengths (inf: not visible), computed once
    per mission: the obstacles are static."""
    obstacles = obstacles_from_config(json.loads(configs))
    points = corners(obstacles, clearance + margin)
    i, j = np.triu_indices(len(points), 1)
    clear = _clear(obstacles, clearance + margin / 2, points[i], points[j])
    lengths = np.full((len(points), len(points)), np.inf)
    lengths[i, j] = lengths[j, i] = np.where(clear, np.linalg.norm(points[i] - points[j], axis=1), np.inf)
    return points, lengths


def _clear(obstacles: Sequence[Obstacle], bound: float, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Step 2's edge test for the segments a[k]-b[k]."""
    clear = np.ones(len(a), dtype=bool)
    for obstacle in obstacles:
        ends = np.minimum(obstacle.distance(a), obstacle.distance(b))
        clear &= segment_distances(obstacle, a, b) >= np.minimum(bound, ends) - 1e-9
    return clear


def _point_segment(points: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(S, P): the distance of each of `points` (P, 2) to each segment a[k]-b[k]."""
    edge = (b - a)[:, None]                                                # (S, 1, 2)
    length2 = np.maximum(np.sum(edge * edge, axis=-1), 1e-300)
    t = np.clip(np.sum((points[None] - a[:, None]) * edge, axis=-1) / length2, 0.0, 1.0)
    return np.linalg.norm(a[:, None] + t[..., None] * edge - points[None], axis=-1)


def _crosses(polygon: PolygonObstacle, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Whether each segment meets the convex polygon: no separating axis among the polygon's normals and
    the segment's normal."""
    along_a, along_b = a @ polygon.normals.T, b @ polygon.normals.T         # (S, K)
    apart = np.any(np.minimum(along_a, along_b) > polygon.offsets, axis=1)
    normal = np.column_stack([a[:, 1] - b[:, 1], b[:, 0] - a[:, 0]])       # (S, 2)
    sides = polygon.vertices @ normal.T - np.sum(normal * a, axis=1)        # (K, S)
    apart |= np.all(sides > 0, axis=0) | np.all(sides < 0, axis=0)
    return ~apart
