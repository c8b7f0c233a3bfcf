"""The independent feasibility checker and the pre-solve infeasibility diagnosis.

`check` trusts nothing a solver returned but the inputs u_i(t): it simulates the dynamics (eq. 5.5) from
the initial states, then re-evaluates every constraint of problem (5.8) for every agent, pair and sample
t = 0..H. Violations are in the constraint's own units (metres, metres per second, ...; `constraints`,
the plain-numpy measures it shares with NC-ADMM's residual and the execution summary), so
`max_violation <= 1e-6` means "feasible to a micrometre". It shares no code with the solvers on purpose.

`diagnose` proves infeasibility before any solve, from necessary conditions on the data alone.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from dro_ros.trajectory.constraints import (coupling_excess, input_excess, obstacle_excess, speed_excess,
                                            terminal_position_excess, terminal_velocity_excess, traffic_excess)
from dro_ros.trajectory.obstacles import distances
from dro_ros.trajectory.problem import BallTerminal, FixedTerminal, FleetProblem, GoalTerminal


@dataclass(frozen=True)
class CheckReport:
    """Worst violation per constraint family, with where it occurs, and the recomputed objective (5.7), with
    the cost to go of any `GoalTerminal`."""

    objective: float
    max_violation: float
    violations: dict[str, float]
    worst: dict[str, str]
    states: np.ndarray = field(repr=False)   # (N, H+1, 2m), simulated

    def feasible(self, tolerance: float = 1e-6) -> bool:
        return self.max_violation <= tolerance


def simulate(problem: FleetProblem, inputs: np.ndarray) -> np.ndarray:
    """States x_i(t), t = 0..H, from x_i(0) and u_i(t) by eq. 5.5; `inputs` has shape (N, H, m)."""
    n, horizon, dim = problem.n_agents, problem.horizon, problem.dim
    inputs = np.asarray(inputs, dtype=float)
    if inputs.shape != (n, horizon, dim):
        raise ValueError(f"inputs: expected shape {(n, horizon, dim)}, got {inputs.shape}")
    states = np.empty((n, horizon + 1, 2 * dim))
    states[:, 0] = problem.initial
    for t in range(horizon):
        states[:, t + 1] = states[:, t] @ problem.A.T + inputs[:, t] @ problem.B.T
    return states


def check(problem: FleetProblem, inputs: np.ndarray) -> CheckReport:
    """Simulate `inputs` and measure every constraint of (5.8); see the module docstring."""
    inputs = np.asarray(inputs, dtype=float)
    states = simulate(problem, inputs)
    dim = problem.dim
    positions, velocities = states[..., :dim], states[..., dim:]
    found: dict[str, tuple[float, str]] = {}

    def record(name: str, excess: np.ndarray, describe) -> None:
        if excess.size == 0:
            return
        index = np.unravel_index(int(np.argmax(excess)), excess.shape)
        found[name] = (max(0.0, float(excess[index])), describe(*index))

    terminals = list(enumerate(problem.terminals))
    record("terminal_position", np.array([terminal_position_excess(t, positions[i, -1]) for i, t in terminals]),
           lambda i: f"agent {i}")
    record("terminal_velocity", np.array([terminal_velocity_excess(t, velocities[i, -1]) for i, t in terminals]),
           lambda i: f"agent {i}")
    record("speed", speed_excess(problem, velocities), lambda i, t: f"agent {i}, t = {t}")
    record("input", input_excess(problem, inputs), lambda i, t: f"agent {i}, t = {t}")
    pairs = problem.coupled_pairs()
    if pairs:
        first, second = (np.array(side) for side in zip(*pairs))
        record(problem.coupling, coupling_excess(problem, positions[first], positions[second]),
               lambda k, t: f"agents {pairs[k][0]} and {pairs[k][1]}, t = {t}")
    record("obstacle", obstacle_excess(problem, positions), lambda i, t, o: f"agent {i}, obstacle {o}, t = {t}")
    record("traffic", traffic_excess(problem, positions), lambda i, t, k: f"agent {i}, traffic {k}, t = {t}")
    violations = {name: value for name, (value, _) in found.items()}
    cost_to_go = sum(t.weight * float(np.sum((positions[i, -1] - t.target) ** 2))
                     for i, t in terminals if isinstance(t, GoalTerminal))
    return CheckReport(objective=float(np.sum(inputs ** 2)) + cost_to_go, max_violation=max(violations.values(), default=0.0),
                       violations=violations, worst={name: where for name, (_, where) in found.items()},
                       states=states)


class InfeasibleProblem(ValueError):
    """The problem data admit no solution; `reasons` are the proofs found by `diagnose`."""

    def __init__(self, problem: FleetProblem, reasons: list["Infeasibility"]) -> None:
        super().__init__(f"problem {problem.name!r} is infeasible as stated: "
                         + "; ".join(reason.reason for reason in reasons))
        self.reasons = reasons


def require_feasible_data(problem: FleetProblem) -> None:
    """Raise `InfeasibleProblem` before any solve when `diagnose` proves the data infeasible."""
    reasons = diagnose(problem)
    if reasons:
        raise InfeasibleProblem(problem, reasons)


@dataclass(frozen=True)
class Infeasibility:
    """A proof from the data that problem (5.8) has no solution; `agents` are 0-based indices."""

    reason: str
    agents: tuple[int, ...]


def diagnose(problem: FleetProblem) -> list[Infeasibility]:
    """Necessary conditions for feasibility that the data violate (an empty list proves nothing).

    * state constraints at t = 0 and at a fixed terminal state (speed limit, coupling, obstacle clearance,
      traffic separation at t = 0);
    * a terminal disc/ball that lies entirely within the clearance of an obstacle (dist is 1-Lipschitz, so
      dist(centre) + radius < clearance proves every point of the ball too close);
    * for `"ordering"` with an input limit, a braking bound for every pair i < j: the chain of ordering
      constraints needs s_j - s_i >= (j - i) r_min, while with |u| <= u_bar the gap g = s_j - s_i obeys
      g(t) <= g(0) + w(0) t + u_bar t^2 (w = v_j - v_i; relative acceleration at most 2 u_bar). If that
      bound falls below (j - i) r_min at some sample t, no input sequence is feasible.
    """
    found: list[Infeasibility] = []
    dim, v_bar = problem.dim, problem.max_speed
    speeds = np.linalg.norm(problem.initial[:, dim:], axis=1)
    if v_bar is not None:
        for i in np.flatnonzero(speeds > v_bar):
            found.append(Infeasibility(
                f"agent {i + 1} starts at speed {speeds[i]:g} m/s, above v_bar = {v_bar:g}", (int(i),)))
        for i, terminal in enumerate(problem.terminals):
            if np.linalg.norm(terminal.velocity) > v_bar:
                found.append(Infeasibility(
                    f"agent {i + 1} must end at speed {np.linalg.norm(terminal.velocity):g} m/s, above "
                    f"v_bar = {v_bar:g}", (i,)))
    positions = problem.initial[:, :dim]
    for i, j in problem.coupled_pairs():
        gap = (positions[j, 0] - positions[i, 0] if problem.coupling == "ordering"
               else float(np.linalg.norm(positions[j] - positions[i])))
        if gap < problem.r_min:
            found.append(Infeasibility(
                f"agents {i + 1} and {j + 1} start {gap:g} m apart, closer than r_min = {problem.r_min:g}",
                (i, j)))
    found.extend(_obstacle_certificates(problem))
    if problem.traffic:
        gaps = np.linalg.norm(positions[:, None] - np.stack([p[0] for p in problem.traffic])[None], axis=-1)
        for i, k in zip(*np.nonzero(gaps < problem.traffic_separation)):
            found.append(Infeasibility(f"agent {i + 1} starts {gaps[i, k]:.3g} m from traffic {k}, closer than "
                                       f"{problem.traffic_separation:g} m", (int(i),)))
    if problem.coupling == "ordering" and problem.max_input is not None:
        found.extend(_braking_certificates(problem))
    return found


def _obstacle_certificates(problem: FleetProblem) -> list[Infeasibility]:
    """Starts, fixed terminal positions and whole terminal balls within the clearance of an obstacle."""
    found: list[Infeasibility] = []
    if not problem.obstacles:
        return found
    clearance = problem.clearance
    starts = distances(problem.obstacles, problem.initial[:, :problem.dim])
    for i, o in zip(*np.nonzero(starts < clearance)):
        found.append(Infeasibility(f"agent {i + 1} starts {starts[i, o]:.3g} m from obstacle {o}, closer than the "
                                   f"clearance {clearance:g} m", (int(i),)))
    for i, terminal in enumerate(problem.terminals):
        if isinstance(terminal, FixedTerminal):
            where, slack, what = terminal.position, 0.0, "must end"
        elif isinstance(terminal, BallTerminal):
            where, slack, what = terminal.centre, terminal.radius, "has its whole terminal ball"
        else:
            continue
        gaps = distances(problem.obstacles, where) + slack
        for o in np.flatnonzero(gaps < clearance):
            found.append(Infeasibility(f"agent {i + 1} {what} within {clearance:g} m of obstacle {o}", (i,)))
    return found


def _braking_certificates(problem: FleetProblem) -> list[Infeasibility]:
    """The ordering braking bound of `diagnose`: the strongest failing pair (largest u_bar needed), if any."""
    u_bar, r_min, n = problem.max_input, problem.r_min, problem.n_agents
    times = problem.step * np.arange(problem.horizon + 1)
    s, v = problem.initial[:, 0], problem.initial[:, 1]
    found: list[tuple[float, Infeasibility]] = []
    for i in range(n):
        for j in range(i + 1, n):
            gap, closing = s[j] - s[i], v[j] - v[i]
            need = (j - i) * r_min
            if closing >= 0 or gap < need:
                continue  # not approaching; a start below the chain bound is reported elsewhere or is fine
            bound = gap + closing * times + u_bar * times ** 2
            k = int(np.argmin(bound))
            if bound[k] < need:
                least = closing ** 2 / (4 * (gap - need))
                found.append((least, Infeasibility(
                    f"agents {i + 1} and {j + 1} close at {-closing:g} m/s from {gap:g} m apart; the ordering "
                    f"chain keeps them >= {need:g} m apart, but with |u| <= {u_bar:g} the gap at "
                    f"t = {times[k]:g} s is at most {bound[k]:.4g} m (braking needs u_bar >= {least:.4g})",
                    (i, j))))
    return [max(found, key=lambda item: item[0])[1]] if found else []
