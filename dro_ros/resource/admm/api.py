"""The reference package's public API (`distributed-resource-optimization`), on dro_ros carriers.

The README examples of reference 000 run unchanged apart from the import name. Each `start_*` also
returns a result object, and the actors keep the reference's mutable attributes (`flex.x`).
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Sequence

import numpy as np

from dro_ros.core.report import RunStatus
from dro_ros.core.simple import ActorContainer, NetworkModel, SimpleCarrier
from dro_ros.core.topology import Topology
from dro_ros.resource.admm.coordinator import AdmmCoordinator, AdmmOptions, AdmmResult, AdmmStart, AdmmStatus
from dro_ros.resource.admm.flex import FlexActor


@dataclass(frozen=True)
class SharingData:
    target: np.ndarray
    weights: np.ndarray


def _finite_vector(values: Any, name: str) -> np.ndarray:
    vector = np.asarray(values, dtype=float)
    if vector.ndim != 1 or vector.size == 0:
        raise ValueError(f"{name}: expected a non-empty vector, got shape {vector.shape}")
    if not np.all(np.isfinite(vector)):
        raise ValueError(f"{name}: contains NaN or infinite values: {vector.tolist()}")
    return vector


def create_admm_flex_actor_one_to_many(in_capacity: float, efficiency: Sequence[float], cost: float = 0.0,
                                       quadratic_cost: float = 0.0) -> FlexActor:
    return FlexActor(in_capacity, efficiency, cost, quadratic_cost)


def create_admm_sharing_data(target: Sequence[float], priorities: Sequence[float] | None = None) -> SharingData:
    """Target of the aggregate and per-output weights (default 1); weights must be non-negative."""
    target = _finite_vector(target, "target")
    weights = np.ones_like(target) if priorities is None else _finite_vector(priorities, "weights")
    if weights.shape != target.shape:
        raise ValueError(f"weights: {weights.size} values for a target of {target.size}")
    if np.any(weights < 0):
        raise ValueError("weights: must be non-negative")
    return SharingData(target, weights)


def create_admm_start(data: SharingData) -> AdmmStart:
    return AdmmStart(target=data.target, weights=data.weights)


def create_admm_start_consensus(target: Sequence[float], weights: Sequence[float] | None = None) -> AdmmStart:
    return create_admm_start(create_admm_sharing_data(target, weights))


def create_sharing_target_distance_admm_coordinator(**options: Any) -> AdmmCoordinator:
    """Sharing ADMM, g = weighted L1 distance of the aggregate to the target; options: `AdmmOptions`."""
    return AdmmCoordinator("target_distance", AdmmOptions(**options))


def create_consensus_target_reach_admm_coordinator(penalty: float = 100.0, **options: Any) -> AdmmCoordinator:
    """Consensus-form ADMM, g = penalty/2 ||W (sum x - target)||^2: a larger penalty pulls the sum closer."""
    return AdmmCoordinator("target_reach", AdmmOptions(**options), penalty=penalty)


def coordinator_agent(kind: str, target: Sequence[float], weights: Sequence[float] | None = None,
                      penalty: float = 1.0, **options: Any) -> AdmmCoordinator:
    """The coordinator of one multi-process run, its start included: g of `kind` ("target_distance" or
    "target_reach" with `penalty`) on the aggregate's `target` with per-output `weights`, validated as by
    `create_admm_sharing_data`; options: `AdmmOptions`. Registered as "admm_coordinator"."""
    start = create_admm_start(create_admm_sharing_data(target, weights))
    return AdmmCoordinator(kind, AdmmOptions(**options), penalty=penalty, start=start)


async def start_coordinated_optimization(actors: Sequence[Any], coordinator: AdmmCoordinator, start: AdmmStart,
                                         *, network: NetworkModel | None = None,
                                         wall_timeout: float = 600.0) -> AdmmResult:
    """Run `actors` and `coordinator` in one process (a star: the coordinator talks to every actor)."""
    if not actors:
        raise ValueError("actors: the participant list is empty")
    target, weights = _finite_vector(start.target, "start.target"), _finite_vector(start.weights, "start.weights")
    if weights.shape != target.shape:
        raise ValueError(f"start.weights: {weights.size} values for a target of {target.size}")
    for k, actor in enumerate(actors, start=1):
        efficiency = getattr(actor, "efficiency", None)
        if efficiency is not None and efficiency.shape != np.shape(start.target):
            raise ValueError(f"actor_{k}.efficiency: has {efficiency.size} outputs, the target has "
                             f"{np.size(start.target)}")
    n = len(actors)
    container = ActorContainer(Topology.from_edges(n + 1, [(0, k) for k in range(1, n + 1)]), network, "admm")
    coordinator.start = start
    SimpleCarrier(container, coordinator, "coordinator")
    for k, actor in enumerate(actors, start=1):
        SimpleCarrier(container, actor, f"actor_{k}")
    report = await container.run(wall_timeout=wall_timeout)
    result = coordinator.result()
    if result is None:
        raise RuntimeError(f"the coordinator produced no result (run {report.status.value}: {report.failures})")
    if report.status is RunStatus.FAILED and result.status is not AdmmStatus.FAILED:
        result = replace(result, status=AdmmStatus.FAILED, message="; ".join(report.failures.values()))
    return result
