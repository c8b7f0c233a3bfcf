"""A coarse-grid prediction of the whole fleet, which the branch sweep refines (an addition to Alg. 2).

CDS-BS is greedy: a stage fixes its free agents' trajectories without seeing the agents beyond them. On
the platoon every ordering constraint binds in the optimum, so the end agents' need to brake runs
through the whole chain, and no one-pass sweep from the centre sees it (nor does letting every stage
also optimize the next few generations: README, "CDS-BS refining a coarse prediction").

The prediction carries that information. It is the centralized problem (5.8) on a grid `factor` times
coarser: inputs held for `factor` steps, so by the exact discretization (5.5) the coarse states are the
fine states at every factor-th step, and the coarse problem is the fine one restricted to such inputs
(plus a margin on r_min, below). With the prediction, a stage (3.5 or 3.7) also keeps its free agents
coupled to the *predicted* trajectories of the next generation (`next_generation`), fixed. The root
predicts at start-up and each node passes the coarse inputs of a child's `descendants` down with the
child's first message, so one agent solves the coarse problem and a message grows by H / factor numbers
per agent below its receiver.

Guarantee, for coupling along the tree's edges (the platoon): the prediction, rolled out on the fine
grid, passes the independent checker (the margin is raised until it does), and in every stage the free
agents' predicted trajectories are feasible: the next generation is fixed at its prediction, and the
stage's fixed agents were themselves solved against these free agents' predictions. By induction every
stage is feasible, and since every agent is free in exactly one stage,

    f(CDS-BS with prediction) <= f(prediction).

The coarse problem is small (H / factor steps), so predicting costs a small part of the fine
centralized solve (README, platoon benchmark).
"""
from __future__ import annotations

import dataclasses

import numpy as np

from dro_ros.graph.trees import RootedTree
from dro_ros.trajectory.centralized import solve_centralized
from dro_ros.trajectory.checker import check
from dro_ros.trajectory.problem import FleetProblem

MARGIN_ATTEMPTS = 4
FIRST_MARGIN = 0.02
"""The first attempt's margin, as a fraction of r_min: between coarse samples the fine positions dip below
the coarse r_min, and a first margin of the size of that dip spares a second coarse solve (README)."""


class PredictionError(RuntimeError):
    """The coarse problem could not be solved, or no margin made its solution feasible on the fine grid."""


def coarse_problem(problem: FleetProblem, factor: int, margin: float = 0.0) -> FleetProblem:
    """The fleet problem on a grid `factor` times coarser, with r_min raised by `margin`."""
    if factor < 1 or problem.horizon % factor:
        raise ValueError(f"prediction: the horizon {problem.horizon} is not a multiple of the factor {factor}")
    return dataclasses.replace(problem, horizon=problem.horizon // factor, step=problem.step * factor,
                               r_min=problem.r_min + margin, name=f"{problem.name}/coarse{factor}")


def predict(problem: FleetProblem, factor: int) -> np.ndarray:
    """Coarse inputs (N, H / factor, m) of the coarse-grid optimum; held for `factor` steps each, they are
    feasible for `problem` (checked).

    Between coarse samples the fine positions may dip below r_min, so the coarse r_min is raised by
    `FIRST_MARGIN` r_min, and after an attempt that the fine grid still violates, by twice the violation.
    `PredictionError` if the coarse solve fails or `MARGIN_ATTEMPTS` margins do not suffice.
    """
    margin = FIRST_MARGIN * problem.r_min
    for _ in range(MARGIN_ATTEMPTS):
        coarse = solve_centralized(coarse_problem(problem, factor, margin))
        if coarse.inputs is None:
            raise PredictionError(f"coarse problem (factor {factor}, r_min margin {margin:.3g}): {coarse.failure}")
        violation = check(problem, np.repeat(coarse.inputs, factor, axis=1)).max_violation
        if violation <= 1e-9:
            return coarse.inputs
        margin += 2 * violation
    raise PredictionError(f"coarse prediction (factor {factor}) still violates the fine problem by "
                          f"{violation:.3g} after {MARGIN_ATTEMPTS} margins")


def next_generation(tree: RootedTree, free: tuple[int, ...], fixed: tuple[int, ...]) -> tuple[int, ...]:
    """The agents next to a stage's free agents that are neither free nor fixed: their children."""
    taken = set(free) | set(fixed)
    return tuple(sorted({c for agent in free for c in tree.children[agent] if c not in taken}))


def descendants(tree: RootedTree, agent: int) -> list[int]:
    """The agents below `agent` in the rooted tree: whose predictions travel down through it."""
    below, frontier = [], list(tree.children[agent])
    while frontier:
        below.extend(frontier)
        frontier = [c for a in frontier for c in tree.children[a]]
    return sorted(below)
