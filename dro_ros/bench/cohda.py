"""`dro-ros bench cohda --json`: COHDA in process against the paper's figures and independent optima.

Cases (every row carries its seed and parameters; schedules uniform in [0, 1], the target the sum of
one random schedule per agent, so an exact match (distance 0) exists, as the paper's normalisation
assumes):

* `paper`: 30 agents x 2000 schedules x 16 intervals on the paper's set-up (Hinrichs et al., Sec. 3):
  small world (ring plus phi * n chords, phi = 2), delays uniform in [1, 2] simulated steps, agents
  deciding `reaction_delay` = 1 step after the first news. Normalised fitness (targets <= 0.02, <= 200
  simulated steps), messages per agent per step (paper: 1.5).
* `uniform`: 30 x 200 x 16 through the default call, `start_distributed_optimization(participants,
  start)` with no topology, network or delay arguments (complete topology, no delay, every agent decides
  once its inbox is drained): wall time (target <= 1 s) and L1 / ||target||_1 (target <= 1.1 %, mean of
  the seeds); once more with distributed termination detection (weight throwing, Stop flood).
Every row has its wall time and its CPU time (`time.process_time`; on a shared machine the wall time
includes waiting for a core).

* `small`: 5 x 4 x 4 with integer schedules in 0..4, a perturbed target and the paper's set-up with
  phi = 1, against the brute-force optimum (4^5 combinations).
"""
from __future__ import annotations

import asyncio
import time
from typing import Any

import numpy as np

from dro_ros.core.simple import NetworkModel
from dro_ros.core.topology import small_world
from dro_ros.resource.cohda import create_cohda_participant, create_cohda_start_message, start_distributed_optimization
from dro_ros.resource.cohda.evaluation import brute_force, normalized_fitness

DEFAULTS: dict[str, Any] = {"seeds": [1, 2, 3, 4, 5], "reaction_delay": 1.0, "phi": 2.0, "delay": [1.0, 2.0],
                            "cases": ["paper", "uniform", "small"]}


def instance(seed: int, agents: int, schedules: int, steps: int, integer: bool = False) -> tuple[list, np.ndarray]:
    """Uniform [0, 1] schedules and a planted target; `integer`: schedules in 0..4 and the target moved by
    up to +-2 per interval, so that an exact match is not guaranteed."""
    rng = np.random.default_rng(seed)
    sets = [rng.integers(0, 5, (schedules, steps)).astype(float) if integer else rng.uniform(0, 1, (schedules, steps))
            for _ in range(agents)]
    target = sum(s[rng.integers(schedules)] for s in sets)
    return sets, target + rng.uniform(-2, 2, steps) if integer else target


def run_case(seed: int, agents: int, schedules: int, steps: int, *, phi: float | None = None,
             delay: list[float] | None = None, reaction_delay: float = 0.0, detect_termination: bool = False,
             integer: bool = False) -> dict[str, Any]:
    """One run; without `phi` and `delay` it is the default call (module docstring)."""
    sets, target = instance(seed, agents, schedules, steps, integer)
    actors = [create_cohda_participant(i + 1, s, reaction_delay=reaction_delay) for i, s in enumerate(sets)]
    start = create_cohda_start_message(target, detect_termination=detect_termination)
    setup = {} if phi is None else {"topology": small_world(agents, phi, seed),
                                    "network": NetworkModel(tuple(delay), seed=seed)}
    started, cpu_started = time.perf_counter(), time.process_time()
    result = asyncio.run(start_distributed_optimization(actors, start, **setup))
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    steps_run = result.simulated_time
    per_step = (lambda count: round(count / agents / steps_run, 3)) if steps_run > 0 else (lambda count: None)
    return {"seed": seed, "agents": agents, "schedules": schedules, "intervals": steps, "phi": phi, "delay": delay,
            "reaction_delay": reaction_delay, "detect_termination": detect_termination,
            "status": result.status.value, "agreed": result.agreed, "l1": round(result.objective, 6),
            "l1_relative": round(result.objective / float(np.abs(target).sum()), 6),
            "normalized_fitness": round(normalized_fitness(result.objective, sets, target), 6),
            "simulated_steps": round(steps_run, 3), "messages": result.messages,
            "decisions": result.iterations, "messages_per_agent_per_step": per_step(result.messages),
            "decisions_per_agent_per_step": per_step(result.iterations),
            "wall_time": round(wall, 3), "cpu_time": round(cpu, 3), "_sets": sets, "_target": target}


def _public(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if not k.startswith("_")}


def _summary(rows: list[dict[str, Any]], keys: list[str]) -> dict[str, Any]:
    return {key: {"mean": round(float(np.mean([r[key] for r in rows])), 6),
                  "max": round(float(np.max([r[key] for r in rows])), 6)} for key in keys}


def run(**opts: Any) -> dict[str, Any]:
    """Benchmark; `opts`: seeds, cases, and the paper set-up's reaction_delay, phi, delay ([low, high])."""
    unknown = set(opts) - set(DEFAULTS)
    if unknown:
        raise ValueError(f"unknown bench option(s): {sorted(unknown)}")
    settings = {key: opts.get(key) if opts.get(key) is not None else value for key, value in DEFAULTS.items()}
    common = {"phi": settings["phi"], "delay": list(settings["delay"]), "reaction_delay": settings["reaction_delay"]}
    report: dict[str, Any] = {"benchmark": "cohda", **settings}
    seeds = list(settings["seeds"])
    if "paper" in settings["cases"]:
        rows = [_public(run_case(seed, 30, 2000, 16, **common)) for seed in seeds]
        report["paper"] = {"targets": {"normalized_fitness": 0.02, "simulated_steps": 200},
                           "paper_reports": {"normalized_fitness_2000": "0.003 +- 0.004", "simulated_steps": "132 +- 21",
                                             "messages_per_agent_per_step": "1.5 +- 0.04"},
                           "summary": _summary(rows, ["normalized_fitness", "simulated_steps",
                                                      "messages_per_agent_per_step", "wall_time", "cpu_time"]),
                           "rows": rows}
    if "uniform" in settings["cases"]:
        rows = [_public(run_case(seed, 30, 200, 16)) for seed in seeds]
        detected = _public(run_case(seeds[0], 30, 200, 16, detect_termination=True))
        report["uniform"] = {"call": "start_distributed_optimization(participants, start)",
                             "targets": {"wall_time": 1.0, "l1_relative": 0.011},
                             "summary": _summary(rows, ["l1_relative", "wall_time", "cpu_time", "messages", "decisions"]),
                             "rows": rows, "with_termination_detection": detected}
    if "small" in settings["cases"]:
        rows = []
        for seed in seeds:
            row = run_case(seed, 5, 4, 4, phi=1.0, delay=common["delay"], reaction_delay=common["reaction_delay"],
                           integer=True)
            optimum, _ = brute_force(row["_sets"], row["_target"])
            rows.append({**_public(row), "brute_force_l1": optimum, "gap": round(row["l1"] - optimum, 6)})
        report["small"] = {"optimal_runs": sum(r["gap"] <= 1e-9 for r in rows), "runs": len(rows), "rows": rows}
    return report
