"""`dro-ros bench resource-scale --json`: the resource algorithms at scale, in process, each against an
independent answer (target: each case within 30 s of wall time).

* `cohda`: 200 participants x 100 schedules x 96 intervals (uniform [0, 1], the target the sum of one
  schedule per participant, so the exact answer has L1 distance 0), on a small world (phi = 2); quality
  is L1 / ||target||_1.
* `admm`: sharing with the default coordinator over 500 one-to-many actors (the "reference" family of
  `dro_ros.bench.admm`); quality is the relative gap to the LP optimum (HiGHS).
* `averaging`: 500 agents on a small world (phi = 2), tolerance 1e-7; quality is the largest distance
  of an agent's value to the exact mean.
"""
from __future__ import annotations

import asyncio
import time
from typing import Any, Callable

import numpy as np

from dro_ros.bench.admm import actors, centralized_sharing, instance as admm_instance
from dro_ros.bench.cohda import instance as cohda_instance
from dro_ros.core.simple import run_in_process
from dro_ros.core.topology import small_world
from dro_ros.resource.admm import (create_admm_sharing_data, create_admm_start,
                                   create_sharing_target_distance_admm_coordinator, start_coordinated_optimization)
from dro_ros.resource.averaging import AveragingAgent
from dro_ros.resource.cohda import create_cohda_participant, create_cohda_start_message, start_distributed_optimization

WALL_TIME_TARGET = 30.0


def _cohda(seed: int) -> dict[str, Any]:
    sets, target = cohda_instance(seed, 200, 100, 96)
    participants = [create_cohda_participant(i + 1, s) for i, s in enumerate(sets)]
    result = asyncio.run(start_distributed_optimization(participants, create_cohda_start_message(target),
                                                        topology=small_world(200, 2.0, seed)))
    return {"participants": 200, "schedules": 100, "intervals": 96, "topology": "small world phi=2",
            "status": result.status.value, "agreed": result.agreed, "messages": result.messages,
            "decisions": result.iterations, "l1_relative": result.objective / float(np.abs(target).sum())}


def _admm(seed: int) -> dict[str, Any]:
    data = admm_instance("reference", 500, seed, quadratic=False)
    start = create_admm_start(create_admm_sharing_data(data["target"], data["weights"]))
    result = asyncio.run(start_coordinated_optimization(actors(data), create_sharing_target_distance_admm_coordinator(),
                                                        start))
    optimum = centralized_sharing(data)
    return {"actors": 500, "family": "reference", "status": result.status.value, "iterations": result.iterations,
            "messages": result.messages, "objective": result.objective, "lp_optimum": optimum,
            "relative_gap": (result.objective - optimum) / max(abs(optimum), 1.0)}


def _averaging(seed: int) -> dict[str, Any]:
    values = np.random.default_rng(seed).uniform(0, 10, 500)
    topology = small_world(500, 2.0, seed)
    diameter = topology.diameter()  # all-pairs BFS: once, not per agent
    agents = [AveragingAgent(v, tol=1e-7, diameter_bound=diameter) for v in values]
    report = asyncio.run(run_in_process(agents, topology=topology))
    final = np.array([r.value[0] for r in report.results.values()])
    return {"agents": 500, "topology": "small world phi=2", "status": report.status.value,
            "rounds": next(iter(report.results.values())).rounds, "messages": report.messages,
            "max_error_to_mean": float(np.max(np.abs(final - values.mean())))}


CASES: dict[str, Callable[[int], dict[str, Any]]] = {"cohda": _cohda, "admm": _admm, "averaging": _averaging}


def run(seed: int = 1, cases: list[str] | None = None) -> dict[str, Any]:
    """Each case once, with its wall time; `cases` picks some of cohda, admm, averaging."""
    chosen = list(CASES) if cases is None else list(cases)
    unknown = sorted(set(chosen) - set(CASES))
    if unknown:
        raise ValueError(f"cases: unknown {unknown}; choose from {sorted(CASES)}")
    report: dict[str, Any] = {"benchmark": "resource-scale", "seed": seed, "wall_time_target_s": WALL_TIME_TARGET}
    for name in chosen:
        started, cpu_started = time.perf_counter(), time.process_time()
        row = CASES[name](seed)
        row["wall_time_s"] = round(time.perf_counter() - started, 2)
        row["cpu_time_s"] = round(time.process_time() - cpu_started, 2)  # on a shared machine, wall > cpu
        report[name] = row
    return report
