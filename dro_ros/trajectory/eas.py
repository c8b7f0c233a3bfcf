"""The external active set method (thesis Sec. 3.3, Alg. 4) over a `Stage`.

Problem P_W (3.13) keeps the equalities and only the inequalities in the working set W ⊂ Q. Starting from
W^0 = ∅ and a point x^0, each round adds w(x^k) = {j in Q : c_j(x^k) >= gamma(x^k)} (3.14) to W, runs at
most N_iter Ipopt iterations on P_W from x^k, and stops when the result is a local solution of P_W that
satisfies every constraint of Q (psi(x) <= tolerance, 3.17). The threshold is the thesis's

    gamma(x) = min(delta(x), epsilon(x))                                       (3.18)
    epsilon(x) = max(0, psi_+(x) - epsilon_bar)                                 (3.15)-(3.16)
    delta(x) = the ceil(delta_bar |lambda(x)|)-th largest violation in lambda(x) (3.19)-(3.21)

where lambda(x) are the values of the violated constraints (delta = +inf when none is violated). With
`delta_bar = None` the threshold is epsilon alone, as in Chung, Polak and Sastry [47].

Restarts (`restart`, on by default; not in the thesis). From a warm start x^0 that satisfies every row
of Q (a receding-horizon window started from the previous plans), a round that Ipopt ends "locally
infeasible" is followed by one from x^0 again, with the rows violated at the round's point added, instead
of ending the solve. That point is where the rows outside W were free: pairs of robots pulled onto one
point, where the row r_min^2 - ||s_i - s_j||^2 has no gradient; x^0 satisfies the added rows already, so
the problem it proved "infeasible" locally is not. The restarts stop when a round adds no row. A round
that merely ends violated continues from its point as in Alg. 4: restarting those too made a robot behind
a silent one stay behind it for good (`test_a_robot_silent_to_the_end_fails_the_mission_instead_of_being_left_out`),
as a solve from x^0 keeps x^0's way round the others.

P_W is a relaxation of the stage problem: were P_W convex, its infeasibility would prove the stage's. Ipopt's
"infeasible" is local (a point that locally minimises the constraint violation), so for the nonconvex
rows it is evidence, not a proof, and is reported as Ipopt's status.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from dro_ros.trajectory.stage import SolveResult, SolveStatus, Stage


@dataclass(frozen=True)
class EasParameters:
    epsilon_bar: float = 5.0
    delta_bar: float | None = 0.3
    n_iter: int = 100            # N_iter: Ipopt iterations per round
    max_rounds: int = 30
    tolerance: float = 1e-8      # psi(x) <= tolerance counts as feasible (constraint units)
    active_tolerance: float = 1e-4     # c_j(x) >= -active_tolerance counts as active (|A|)
    restart: bool = True         # a round Ipopt ends locally infeasible restarts from a start that kept Q

    def __post_init__(self) -> None:
        if self.epsilon_bar <= 0:
            raise ValueError(f"epsilon_bar: must be positive, got {self.epsilon_bar}")
        if self.delta_bar is not None and not 0 <= self.delta_bar <= 1:
            raise ValueError(f"delta_bar: must lie in [0, 1], got {self.delta_bar}")
        if self.n_iter < 1 or self.max_rounds < 1:
            raise ValueError("n_iter and max_rounds must be at least 1")


@dataclass
class EasReport:
    """What Table 5.2 lists for one problem: n_k, |Q|, |W|, |A|, and the time spent."""

    rounds: int
    n_constraints: int
    n_working: int
    n_active: int
    ipopt_iterations: int
    solve_time: float            # everything, including `build_time`
    build_time: float            # building one solver per working set
    history: list[tuple[int, float, str]] = field(default_factory=list)   # (|W|, psi after, Ipopt status)
    working: np.ndarray | None = field(default=None, repr=False)          # the final W as a mask over Q


def threshold(values: np.ndarray, epsilon_bar: float, delta_bar: float | None) -> float:
    """gamma(x) of eq. 3.18 from the constraint values c_j(x), j in Q."""
    psi_plus = max(0.0, float(np.max(values))) if values.size else 0.0
    epsilon = max(0.0, psi_plus - epsilon_bar)
    if delta_bar is None:
        return epsilon
    violated = np.sort(values[values > 0])[::-1]
    if violated.size == 0:
        return epsilon
    rank = max(1, math.ceil(delta_bar * violated.size))
    return min(float(violated[rank - 1]), epsilon)


def select(values: np.ndarray, epsilon_bar: float, delta_bar: float | None) -> np.ndarray:
    """w(x) of eq. 3.14 as a mask over Q; only violated or active rows can enter (gamma >= 0)."""
    return values >= threshold(values, epsilon_bar, delta_bar)


NEAR_ACTIVE = 0.05
"""A row with c_j(x) >= -NEAR_ACTIVE at a warm start (constraint units) enters EAS's first working set: for
the squared-distance rows, a pair closer than sqrt(r_min^2 + 0.05), a robot within about 0.025 / (R + c) of
a disc's clearance."""


def near_active(stage: Stage, point: np.ndarray, parameters: np.ndarray) -> np.ndarray:
    """The working set a warm start carries over (a previous window's active constraints), so that EAS does
    not rediscover them one round at a time: the rows of Q active, violated or nearly active at `point`, and
    every input row (one agent each, cheap, and a minimum-effort plan keeps many of them at u_bar)."""
    return stage.mask("input") | (stage.inequality_values(point, parameters) >= -NEAR_ACTIVE)


def solve_eas(stage: Stage, parameters: np.ndarray, guess: np.ndarray | None = None,
              settings: EasParameters = EasParameters(), *, dual: np.ndarray | None = None,
              working: np.ndarray | None = None, allowed: np.ndarray | None = None,
              progress: Callable[[SolveResult, float, float], None] | None = None
              ) -> tuple[SolveResult, EasReport]:
    """Alg. 4 on `stage`; returns the last solve and the report (with the final working set). Never loops
    past `max_rounds`.

    `dual` (multipliers of the equalities followed by all of Q) warm-starts the first round; each later
    round starts from the previous round's multipliers, zero for the rows just added. `working` resumes
    from a working set found earlier (e.g. by a pre-solve); `allowed` restricts Q to a subset of its rows,
    which solves a relaxation (a path node pre-solves its stage without the rows that involve agents
    not yet fixed, while it waits for them). `progress(result, psi, cpu_seconds)` is called after every
    round that is not the last, with the thread CPU time spent so far.
    """
    x = stage.guess(parameters) if guess is None else np.asarray(guess, dtype=float)
    n_eq = int(stage.g_eq.numel())
    multipliers = np.zeros(n_eq + stage.n_inequalities) if dual is None else np.asarray(dual, dtype=float).copy()
    rows = np.ones(stage.n_inequalities, dtype=bool) if allowed is None else np.asarray(allowed, dtype=bool)
    working = np.zeros(stage.n_inequalities, dtype=bool) if working is None else working & rows

    def values(point: np.ndarray) -> np.ndarray:
        return np.where(rows, stage.inequality_values(point, parameters), -np.inf)

    start, start_multipliers = x.copy(), multipliers.copy()
    restarts = settings.restart and float(np.max(values(start), initial=-np.inf)) <= settings.tolerance
    history: list[tuple[int, float, str]] = []
    iterations, build_time, started, cpu_started = 0, 0.0, time.perf_counter(), time.thread_time()
    result: SolveResult | None = None
    for _ in range(settings.max_rounds):
        working |= select(values(x), settings.epsilon_bar, settings.delta_bar)
        selected = np.flatnonzero(working)
        result = stage.solve(parameters, x, mask=working, max_iter=settings.n_iter,
                             dual=np.concatenate([multipliers[:n_eq], multipliers[n_eq + selected]]))
        iterations += result.iterations
        build_time += result.build_time
        x = result.primal
        multipliers[:] = 0.0
        multipliers[:n_eq] = result.dual[:n_eq]
        multipliers[n_eq + selected] = result.dual[n_eq:]
        psi = float(np.max(values(x), initial=-np.inf))
        history.append((int(working.sum()), psi, result.return_status))
        if result.status is SolveStatus.SOLVED and psi <= settings.tolerance:
            break
        if restarts and result.status is SolveStatus.INFEASIBLE:
            grown = working | select(values(x), settings.epsilon_bar, settings.delta_bar)
            if grown.sum() == working.sum():
                break
            working, x, multipliers = grown, start.copy(), start_multipliers.copy()
        elif result.status is SolveStatus.INFEASIBLE:
            break
        if progress is not None and len(history) < settings.max_rounds:
            progress(result, psi, time.thread_time() - cpu_started)
    assert result is not None
    final = values(x)
    psi = float(np.max(final, initial=-np.inf))
    if result.status is SolveStatus.SOLVED and psi > settings.tolerance:
        result.status = SolveStatus.ITERATION_LIMIT   # rounds exhausted: not a solution of the stage
        result.return_status = f"EAS: {settings.max_rounds} rounds, psi = {psi:.3g}"
    report = EasReport(rounds=len(history), n_constraints=stage.n_inequalities, n_working=int(working.sum()),
                       n_active=int(np.sum(final >= -settings.active_tolerance)), ipopt_iterations=iterations,
                       solve_time=time.perf_counter() - started, build_time=build_time, history=history,
                       working=working)
    return result, report
