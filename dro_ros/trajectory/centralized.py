"""The centralized solve of problem (5.8): the baseline every distributed run is measured against.

Warm-start strategy (shared with the sweeps, so comparisons are fair): first the convex relaxation
without the collision rows (dynamics, terminal sets, speed and input limits), then the full problem
from that point with Ipopt's warm-start settings (primal only). With `eas`, the external active set
method (Alg. 4) solves the whole problem instead, from rest, exactly as it solves a sweep stage.
"""
from __future__ import annotations

import time

import numpy as np

from dro_ros.trajectory.checker import require_feasible_data
from dro_ros.trajectory.eas import EasParameters, near_active, solve_eas
from dro_ros.trajectory.outcome import FleetResult, FleetStatus, checked_result, failed_result
from dro_ros.trajectory.problem import FleetProblem
from dro_ros.trajectory.stage import EAS_IPOPT, WARM_IPOPT, WINDOW_IPOPT, Stage


def solve_centralized(problem: FleetProblem, *, eas: EasParameters | None = None,
                      warm_start: bool = True, guess: np.ndarray | None = None) -> FleetResult:
    """Solve (5.8) for the whole fleet on one processor; `eas` switches the full solve to Alg. 4. `guess`
    (N, H, m), e.g. a receding horizon's previous plans shifted, replaces the start at rest: the full solve
    (or EAS, with the guess's near-active rows in its first working set) starts from it, with no relaxation.

    The result is a `FleetResult` like a distributed run's (algorithm "centralized" or "centralized, EAS";
    critical path = wall time, build and warm start included; rounds = Ipopt iterations); `details` holds
    the warm start's time ("warm_start_time"), Ipopt's "return_status" and, with EAS, its "eas" report and
    "eas_rounds".
    Raises `InfeasibleProblem` before any solve when the data are provably infeasible.
    """
    require_feasible_data(problem)
    started = time.perf_counter()
    agents = range(problem.n_agents)
    details: dict = {"warm_start_time": 0.0}
    if eas is not None:
        stage = Stage(problem, agents, ipopt=EAS_IPOPT if guess is None else WINDOW_IPOPT)
        parameters = stage.parameters()
        point = working = None
        if guess is not None:
            point = stage.guess(parameters, dict(enumerate(guess)))
            working = near_active(stage, point, parameters)
        result, details["eas"] = solve_eas(stage, parameters, point, eas, working=working)
        used, iterations, details["eas_rounds"] = stage, details["eas"].ipopt_iterations, details["eas"].rounds
    elif guess is not None:
        full = Stage(problem, agents, ipopt=WARM_IPOPT)
        parameters = full.parameters()
        result = full.solve(parameters, full.guess(parameters, dict(enumerate(guess))))
        iterations, used = result.iterations, full
    else:
        relaxed = Stage(problem, agents)
        parameters = relaxed.parameters()
        convex = relaxed.convex_mask()
        if convex.all():   # no collision rows: the relaxation is the problem
            result, used = relaxed.solve(parameters), relaxed
        else:
            guess = None
            if warm_start:
                guess = relaxed.solve(parameters, mask=convex).primal
                details["warm_start_time"] = time.perf_counter() - started
            full = Stage(problem, agents, ipopt=WARM_IPOPT if warm_start else None)
            result, used = full.solve(parameters, guess), full
        iterations = result.iterations
    wall = time.perf_counter() - started
    details["return_status"] = result.return_status
    figures = dict(algorithm="centralized" + (", EAS" if eas is not None else ""), wall_time=wall,
                   critical_path=wall, compute={}, rounds=iterations, messages=0, bytes=0, details=details)
    if not result.ok:
        violated = used.most_violated(result.primal, parameters)
        return failed_result(FleetStatus.STAGE_FAILED, f"centralized solve: {result.status.value} "
                             f"({result.return_status})" + (f"; {violated}" if violated else ""), **figures)
    return checked_result(problem, np.stack([result.inputs[i] for i in agents]), **figures)
