"""The centralized solve of problem (5.8): the baseline every distributed run is measured against.

Warm-start strategy (shared with the sweeps, so comparisons are fair): first the convex relaxation
without the collision rows (dynamics, terminal sets, speed and input limits), then the full problem
from that point with Ipopt's warm-start settings. With `eas`, the external active set method (Alg. 4)
solves the whole problem instead, from rest, exactly as it solves a sweep stage.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from dro_ros.trajectory.checker import CheckReport, check, require_feasible_data
from dro_ros.trajectory.eas import EasParameters, EasReport, solve_eas
from dro_ros.trajectory.problem import FleetProblem
from dro_ros.trajectory.stage import EAS_IPOPT, WARM_IPOPT, SolveResult, Stage


@dataclass
class CentralizedResult:
    solve: SolveResult
    check: CheckReport
    wall_time: float          # build + warm start + solve
    warm_start_time: float
    eas: EasReport | None = None

    @property
    def inputs(self) -> np.ndarray:
        return np.stack([self.solve.inputs[i] for i in sorted(self.solve.inputs)])


def solve_centralized(problem: FleetProblem, *, eas: EasParameters | None = None,
                      warm_start: bool = True) -> CentralizedResult:
    """Solve (5.8) for the whole fleet; `eas` switches the full solve to Alg. 4.

    Raises `InfeasibleProblem` before any solve when the data are provably infeasible.
    """
    require_feasible_data(problem)
    started = time.perf_counter()
    agents = range(problem.n_agents)
    report, warm_time = None, 0.0
    if eas is not None:
        stage = Stage(problem, agents, ipopt=EAS_IPOPT)
        result, report = solve_eas(stage, stage.parameters(), None, eas)
    else:
        relaxed = Stage(problem, agents)
        parameters = relaxed.parameters()
        convex = relaxed.convex_mask()
        if convex.all():   # no collision rows: the relaxation is the problem
            result = relaxed.solve(parameters)
        else:
            guess = None
            if warm_start:
                guess = relaxed.solve(parameters, mask=convex).primal
                warm_time = time.perf_counter() - started
            full = Stage(problem, agents, ipopt=WARM_IPOPT if warm_start else None)
            result = full.solve(parameters, guess)   # primal warm start: measured faster than with duals
    wall = time.perf_counter() - started
    inputs = np.stack([result.inputs[i] for i in agents])
    return CentralizedResult(result, check(problem, inputs), wall, warm_time, report)
