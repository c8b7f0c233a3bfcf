"""Static obstacles of the plane: discs and convex polygons, with the clearance a robot keeps from them.

A robot is a point s in R^2 that must stay at least `clearance` from every obstacle O, at every sample:

    dist(s, O) >= clearance.

Two forms of that constraint, one exact and one for the solver:

* `distance` is the exact Euclidean distance to O (negative inside: minus the depth), in plain numpy. The
  independent checker, the execution summary and the figures measure with it.
* `smooth_clearance` is what the solvers impose, c(s) >= clearance, with c <= dist everywhere so that the
  solver's constraint implies the exact one. For a disc, c(s) = ||s - centre|| - radius, exact (the solver
  writes it squared, (radius + clearance)^2 - ||s - centre||^2 <= 0). For a convex polygon
  {y : a_k . y <= b_k, k = 1..K} with unit normals a_k, the distance outside is at least the largest face
  distance max_k (a_k . s - b_k); the solver uses its smooth lower bound

      c(s) = LSE_beta(a . s - b) - log(K) / beta,   LSE_beta(z) = log(sum_k exp(beta z_k)) / beta,

  which lies within log(K) / beta below the max (`smoothing` = 1 / beta, metres), so the constraint is
  conservative by at most log(K) * smoothing along a face and, at a corner, also by the corner's
  sharpness (the max of face distances cuts the rounded corner off).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Sequence, Union

import numpy as np

SMOOTHING = 0.02
"""1 / beta of the polygon's smooth max, metres: the polygon constraint is conservative by at most
log(K) * SMOOTHING (2.8 cm for a square) along a face."""


class ObstacleError(ValueError):
    """Malformed obstacle data; the message names the offending field."""


@dataclass(frozen=True)
class DiscObstacle:
    """{y : ||y - centre|| <= radius}."""

    centre: np.ndarray
    radius: float

    def __post_init__(self) -> None:
        centre = np.asarray(self.centre, dtype=float)
        if centre.shape != (2,) or not np.all(np.isfinite(centre)):
            raise ObstacleError(f"centre: expected 2 finite numbers, got {self.centre!r}")
        if not (math.isfinite(self.radius) and self.radius > 0):
            raise ObstacleError(f"radius: must be positive, got {self.radius!r}")
        object.__setattr__(self, "centre", centre)
        object.__setattr__(self, "radius", float(self.radius))

    def distance(self, points: np.ndarray) -> np.ndarray:
        """Signed distance of `points` (..., 2) to the disc."""
        return np.linalg.norm(np.asarray(points, dtype=float) - self.centre, axis=-1) - self.radius

    def to_config(self) -> dict[str, Any]:
        return {"kind": "disc", "centre": self.centre.tolist(), "radius": self.radius}


@dataclass(frozen=True)
class PolygonObstacle:
    """The convex polygon with `vertices` (K, 2), K >= 3, given in either turning direction (stored
    counter-clockwise); `normals` (K, 2) and `offsets` (K,) are its faces a_k . y <= b_k, a_k unit."""

    vertices: np.ndarray

    def __post_init__(self) -> None:
        vertices = np.asarray(self.vertices, dtype=float)
        if vertices.ndim != 2 or vertices.shape[1] != 2 or len(vertices) < 3 or not np.all(np.isfinite(vertices)):
            raise ObstacleError(f"vertices: expected at least 3 finite points [x, y], got {self.vertices!r}")
        edges = np.roll(vertices, -1, axis=0) - vertices
        turns = edges[:, 0] * np.roll(edges, -1, axis=0)[:, 1] - edges[:, 1] * np.roll(edges, -1, axis=0)[:, 0]
        if np.any(np.linalg.norm(edges, axis=1) <= 1e-12):
            raise ObstacleError("vertices: two consecutive vertices coincide")
        if not (np.all(turns > 1e-12) or np.all(turns < -1e-12)):
            raise ObstacleError("vertices: the polygon is not strictly convex (every turn must go the same way, "
                                "with no three consecutive vertices in line)")
        if turns[0] < 0:
            vertices = vertices[::-1].copy()
        object.__setattr__(self, "vertices", vertices)

    @property
    def normals(self) -> np.ndarray:
        edges = np.roll(self.vertices, -1, axis=0) - self.vertices
        outward = np.column_stack([edges[:, 1], -edges[:, 0]])
        return outward / np.linalg.norm(outward, axis=1, keepdims=True)

    @property
    def offsets(self) -> np.ndarray:
        return np.sum(self.normals * self.vertices, axis=1)

    def distance(self, points: np.ndarray) -> np.ndarray:
        """Signed distance of `points` (..., 2): outside, the distance to the nearest edge segment; inside,
        minus the distance to the boundary (the largest face distance, which is negative)."""
        points = np.asarray(points, dtype=float)[..., None, :]               # (..., 1, 2)
        start = self.vertices
        edge = np.roll(self.vertices, -1, axis=0) - start                    # (K, 2)
        along = np.clip(np.sum((points - start) * edge, axis=-1) / np.sum(edge * edge, axis=-1), 0.0, 1.0)
        nearest = start + along[..., None] * edge
        to_edges = np.min(np.linalg.norm(points - nearest, axis=-1), axis=-1)
        faces = np.max(np.sum(points * self.normals, axis=-1) - self.offsets, axis=-1)
        return np.where(faces > 0, to_edges, faces)

    def to_config(self) -> dict[str, Any]:
        return {"kind": "polygon", "vertices": self.vertices.tolist()}


Obstacle = Union[DiscObstacle, PolygonObstacle]


def obstacle_from_config(spec: Any, where: str) -> Obstacle:
    """`{kind: disc, centre: [x, y], radius: r}` or `{kind: polygon, vertices: [[x, y], ...]}`; errors name
    `where` and the field."""
    if not isinstance(spec, dict):
        raise ObstacleError(f"{where}: expected a mapping, got {spec!r}")
    kind = spec.get("kind")
    try:
        if kind == "disc":
            return DiscObstacle(centre=_key(spec, "centre"), radius=_key(spec, "radius"))
        if kind == "polygon":
            return PolygonObstacle(vertices=_key(spec, "vertices"))
    except (ObstacleError, TypeError, ValueError, OverflowError) as error:
        raise ObstacleError(f"{where}.{error}") from error
    raise ObstacleError(f"{where}.kind: expected 'disc' or 'polygon', got {kind!r}")


def obstacles_from_config(specs: Any, where: str = "obstacles") -> tuple[Obstacle, ...]:
    if specs is None:
        return ()
    if not isinstance(specs, list):
        raise ObstacleError(f"{where}: expected a list of obstacles, got {specs!r}")
    return tuple(obstacle_from_config(spec, f"{where}[{k}]") for k, spec in enumerate(specs))


def distances(obstacles: Sequence[Obstacle], points: np.ndarray) -> np.ndarray:
    """Signed distances (..., n_obstacles) of `points` (..., 2) to each obstacle."""
    points = np.asarray(points, dtype=float)
    if not obstacles:
        return np.empty(points.shape[:-1] + (0,))
    return np.stack([obstacle.distance(points) for obstacle in obstacles], axis=-1)


def draw_obstacles(ax: Any, obstacles: Sequence[Obstacle], clearance: float = 0.0) -> None:
    """Fill each obstacle on matplotlib axes `ax`, with its clearance outlined (dashed) when positive."""
    from matplotlib.patches import Circle, Polygon
    from scipy.spatial import ConvexHull

    for obstacle in obstacles:
        if isinstance(obstacle, DiscObstacle):
            ax.add_patch(Circle(obstacle.centre, obstacle.radius, color="0.45", zorder=1))
            outline = Circle(obstacle.centre, obstacle.radius + clearance, fill=False)
        else:
            ax.add_patch(Polygon(obstacle.vertices, closed=True, color="0.45", zorder=1))
            angles = np.linspace(0, 2 * np.pi, 24, endpoint=False)
            ring = (obstacle.vertices[:, None, :]
                    + clearance * np.stack([np.cos(angles), np.sin(angles)], axis=-1)[None]).reshape(-1, 2)
            outline = Polygon(ring[ConvexHull(ring).vertices], closed=True, fill=False)
        if clearance > 0:
            outline.set(linestyle="--", edgecolor="0.45", linewidth=0.8, zorder=1)
            ax.add_patch(outline)


def _key(spec: dict[str, Any], key: str) -> Any:
    if key not in spec:
        raise ObstacleError(f"{key}: missing")
    value = spec[key]
    if key == "radius":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ObstacleError(f"radius: expected a number, got {value!r}")
        return float(value)
    return value
