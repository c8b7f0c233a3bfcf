"""How far a trajectory is from each constraint of problem (5.8): one function per constraint kind.

Plain numpy on positions, velocities and inputs (no solver): the independent checker, NC-ADMM's
feasibility residual and the fleet's execution summary all measure with these, in the constraint's own
units (metres, metres per second). A value <= 0 means the constraint holds; arrays broadcast over
leading axes (agents, samples).
"""
from __future__ import annotations

import numpy as np

from dro_ros.trajectory.obstacles import distances
from dro_ros.trajectory.problem import BallTerminal, FixedTerminal, FleetProblem, Terminal


def terminal_position_excess(terminal: Terminal, position: np.ndarray) -> np.ndarray:
    """Distance of s_i(H) from the terminal set: ||s - c|| - radius for a disc/ball, ||s - s_T|| for a fixed
    position (5.6), 0 for a `GoalTerminal` (its position is free)."""
    if isinstance(terminal, BallTerminal):
        return np.linalg.norm(position - terminal.centre, axis=-1) - terminal.radius
    if isinstance(terminal, FixedTerminal):
        return np.linalg.norm(position - terminal.position, axis=-1)
    return np.zeros(np.shape(position)[:-1])


def terminal_velocity_excess(terminal: Terminal, velocity: np.ndarray) -> np.ndarray:
    """||v_i(H) - v_T|| (5.6)."""
    return np.linalg.norm(velocity - terminal.velocity, axis=-1)


def speed_excess(problem: FleetProblem, velocity: np.ndarray) -> np.ndarray:
    """||v_i(t)|| - v_bar; empty when the problem has no speed limit."""
    if problem.max_speed is None:
        return np.empty(0)
    return np.linalg.norm(velocity, axis=-1) - problem.max_speed


def input_excess(problem: FleetProblem, inputs: np.ndarray) -> np.ndarray:
    """||u_i(t)|| - u_bar; empty when the problem has no input limit."""
    if problem.max_input is None:
        return np.empty(0)
    return np.linalg.norm(inputs, axis=-1) - problem.max_input


def separation(problem: FleetProblem, first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """The coupled quantity of agents i < j at positions `first` (of i) and `second` (of j): their distance
    ||s_j - s_i|| ("collision"), or the signed gap s_j - s_i along the first axis ("ordering")."""
    if problem.coupling == "ordering":
        return second[..., 0] - first[..., 0]
    return np.linalg.norm(second - first, axis=-1)


def coupling_excess(problem: FleetProblem, first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """r_min - `separation`: the coupling constraint of a pair i < j."""
    return problem.r_min - separation(problem, first, second)


def obstacle_excess(problem: FleetProblem, positions: np.ndarray) -> np.ndarray:
    """clearance - dist(s, O) for every obstacle O, shape (..., n_obstacles), with the exact distance
    (`obstacles.distances`); empty without obstacles."""
    if not problem.obstacles:
        return np.empty(0)
    return problem.clearance - distances(problem.obstacles, positions)


def traffic_excess(problem: FleetProblem, positions: np.ndarray) -> np.ndarray:
    """traffic_separation - ||s - p_k|| for every traffic trajectory p_k, shape (..., H+1, n_traffic), from
    positions (..., H+1, m); empty without traffic."""
    if not problem.traffic:
        return np.empty(0)
    paths = np.stack(problem.traffic, axis=-2)                              # (H+1, K, m)
    return problem.traffic_separation - np.linalg.norm(positions[..., None, :] - paths, axis=-1)
