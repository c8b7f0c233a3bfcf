"""Compiled stages kept across problems of one structure, e.g. the windows of a receding-horizon mission.

Windows differ in their initial states, goal targets, traffic paths and terminal bounds, which are a
`Stage`'s parameters and bounds, not its structure (`Stage.structure`). `shared_stage` returns the stage
built for the first problem of a structure, bound to the asked problem (`Stage.bound_to`): the symbolic
graph, base functions and per-working-set Ipopt solvers are built once per process, in the in-process
sweeps and in every agent process alike (the factories build their stages through `StageSolver`). The
cache keeps the `MAX_STAGES` most recently used structures.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any, Sequence

from dro_ros.trajectory.problem import FleetProblem
from dro_ros.trajectory.stage import Stage

MAX_STAGES = 32
"""Structures kept: a sweep has one stage per agent that solves, and a changing communication graph or a
split fleet gives a few more partitions."""

_stages: OrderedDict[tuple, Stage] = OrderedDict()
_lock = threading.Lock()


def shared_stage(problem: FleetProblem, free: Sequence[int], fixed: Sequence[int] = (), *,
                 ipopt: dict[str, Any] | None = None) -> Stage:
    """`Stage(problem, free, fixed, ipopt=ipopt)`, compiled once per structure and bound to `problem`."""
    key = Stage.structure(problem, free, fixed, ipopt=ipopt)
    with _lock:
        stage = _stages.get(key)
        if stage is not None:
            _stages.move_to_end(key)
    if stage is None:
        stage = Stage(problem, free, fixed, ipopt=ipopt)
        with _lock:
            _stages[key] = stage
            while len(_stages) > MAX_STAGES:
                _stages.popitem(last=False)
    return stage.bound_to(problem)
