"""Distinct goal points for robots that share one terminal disc.

A window's cost to go w ||s_i(K) - g_i||^2 (`mission.receding`) with one g for every robot of a shared disc
pulls them all onto its centre: the window's solver then meets them packed at r_min around one point, the
coupling rows enter its active set over several rounds, and pairs that the first rounds let collapse onto
each other (where the row r_min^2 - ||s_i - s_j||^2 has no gradient) take Ipopt many iterations or end
infeasible. Each robot of a shared disc gets its own slot instead: the `n` points of a hexagonal lattice
of spacing `spacing(r_min)` nearest the centre (all inside the disc), assigned once per mission to the
robots' start positions by the least sum of squared distances (a linear assignment, scipy's
`linear_sum_assignment`), so the assignment never changes between windows. A disc too small for its
robots' lattice keeps the centre for all of them.
"""
from __future__ import annotations

import math

import numpy as np
from scipy.optimize import linear_sum_assignment

from dro_ros.trajectory.problem import BallTerminal, FleetProblem

SLOT_INSET = 0.9   # slots lie within this fraction of the disc's radius


def spacing(r_min: float) -> float:
    """Distance between neighbouring slots: two robot separations, and at least r_min + 0.1 m."""
    return max(2.0 * r_min, r_min + 0.1)


def lattice(centre: np.ndarray, radius: float, n: int, pitch: float) -> np.ndarray | None:
    """The n points of the hexagonal lattice of `pitch` through `centre` nearest to it, (n, 2), nearest
    first (ties by angle); None when they do not all fit within SLOT_INSET * radius of the centre."""
    rings = math.ceil(math.sqrt(n)) + 1
    i, j = np.meshgrid(np.arange(-rings, rings + 1), np.arange(-rings, rings + 1))
    offsets = pitch * np.column_stack([(i + j / 2).ravel(), (j * math.sqrt(3) / 2).ravel()])
    norms = np.round(np.linalg.norm(offsets, axis=1), 9)
    angles = np.round(np.arctan2(offsets[:, 1], offsets[:, 0]), 9)
    nearest = offsets[np.lexsort((angles, norms))[:n]]
    if np.linalg.norm(nearest[-1]) > SLOT_INSET * radius:
        return None
    return np.asarray(centre, dtype=float) + nearest


def goal_slots(mission: FleetProblem) -> dict[int, np.ndarray]:
    """Robot -> its slot, for every robot whose terminal disc (same centre and radius) it shares with others;
    robots not listed aim at their own goal (`receding.goal_of`)."""
    if mission.dim != 2:
        return {}
    groups: dict[tuple[float, float, float], list[int]] = {}
    for robot, terminal in enumerate(mission.terminals):
        if isinstance(terminal, BallTerminal):
            groups.setdefault((*map(float, terminal.centre), float(terminal.radius)), []).append(robot)
    slots: dict[int, np.ndarray] = {}
    for (x, y, radius), robots in groups.items():
        points = lattice(np.array([x, y]), radius, len(robots), spacing(mission.r_min)) if len(robots) > 1 else None
        if points is None:
            continue
        starts = np.asarray(mission.initial, dtype=float)[robots, :2]
        rows, columns = linear_sum_assignment(np.sum((starts[:, None] - points[None]) ** 2, axis=-1))
        slots.update({robots[r]: points[c] for r, c in zip(rows, columns)})
    return slots
