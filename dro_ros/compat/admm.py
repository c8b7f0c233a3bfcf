"""The reference package's ADMM API: messages, global actors, the generic coordinator, flex actors.

Two ways a run goes, with the same answer:

* in process (a `SimpleCarrier` run whose actors are dro_ros actors, i.e. made by
  `create_admm_flex_actor_one_to_many` or `ADMMFlexActor`, with a built-in global actor): the
  coordinator hands the run to dro_ros's `AdmmCoordinator` (`dro_ros.resource.admm`), whose
  `AdmmResult` (status, iterations, residuals) is attached to the returned list as `.result`;
* otherwise (a user's global actor or actor, or the mango carrier): the generic loop below, the scaled
  ADMM iteration of Boyd et al. 2011 (eq. 3.5-3.7) with the stopping test of sec. 3.3.1.

Both stop on dro_ros's tolerances (abs 1e-7, rel 1e-6, at most 10,000 iterations), not the
reference's (1e-4, 1e-3, 1,000), so they return the optimum rather than an early iterate.
"""
from __future__ import annotations

import asyncio
import logging
import math
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from dro_ros.compat.algorithm import Coordinator, DistributedAlgorithm
from dro_ros.resource.admm import api as admm_api
from dro_ros.resource.admm.coordinator import AdmmCoordinator, AdmmOptions, AdmmResult, AdmmStatus
from dro_ros.resource.admm.flex import FlexActor
from dro_ros.resource.admm.local import LocalActor
from dro_ros.resource.admm.polytope import PolytopeFlexActor

log = logging.getLogger("dro_ros.compat.admm")
DEFAULTS = AdmmOptions()


# --- messages -------------------------------------------------------------------------------------
@dataclass
class ADMMStart:
    """Starts a run: the variant's data (sharing data or a consensus target) and the output count."""

    data: Any
    solution_length: int


@dataclass
class ADMMMessage:
    """Coordinator -> actor: solve argmin f(x) + rho/2 ||x + v||^2."""

    v: np.ndarray
    rho: float


@dataclass
class ADMMAnswer:
    """Actor -> coordinator: the local solution x."""

    x: np.ndarray


class AdmmRunResults(list):
    """Every actor's x in actor order (the reference's return value) with the run's status.

    `status` is an `AdmmStatus`; `result` the full `AdmmResult` when dro_ros's coordinator ran it.
    """

    def __init__(self, xs: Sequence[np.ndarray], status: AdmmStatus, iterations: int,
                 result: AdmmResult | None = None) -> None:
        super().__init__(xs)
        self.status, self.iterations, self.result = status, iterations, result

    @property
    def converged(self) -> bool:
        return self.status is AdmmStatus.CONVERGED


# --- global actors ----------------------------------------------------------------------------------
class ADMMGlobalActor(ABC):
    """The coordinator's side of a variant: z- and u-updates, the signal to actor i, the primal residual."""

    @abstractmethod
    def z_update(self, input_data: Any, x: list[np.ndarray], u: Any, z: Any, rho: float, n: int) -> Any: ...

    @abstractmethod
    def u_update(self, x: list[np.ndarray], u: Any, z: Any, rho: float, n: int) -> Any: ...

    @abstractmethod
    def init_z(self, n: int, m: int) -> Any: ...

    @abstractmethod
    def init_u(self, n: int, m: int) -> Any: ...

    @abstractmethod
    def actor_correction(self, x: list[np.ndarray], z: Any, u: Any, i: int) -> np.ndarray: ...

    @abstractmethod
    def primal_residual(self, x: list[np.ndarray], z: Any) -> float: ...

    def dro_ros_coordinator(self, data: Any, options: AdmmOptions) -> tuple[AdmmCoordinator, np.ndarray,
                                                                             np.ndarray] | None:
        """The equivalent dro_ros coordinator, target and weights, or None (then the generic loop runs)."""
        return None


class ADMMGlobalObjective(ABC):
    """A global objective on the actors' outputs."""

    @abstractmethod
    def objective(self, x: list[np.ndarray], u: Any, z: Any, n: int) -> float: ...


class ADMMTargetDistanceObjective(ADMMGlobalObjective):
    """Squared distance of z to the mean output (the reference's informational objective)."""

    def objective(self, x: list[np.ndarray], u: Any, z: Any, n: int) -> float:
        return float(np.sum((np.asarray(z) - np.mean(x, axis=0)) ** 2))


@dataclass
class ADMMSharingData:
    """Sharing target and `priorities` as stored by the reference (negated: penalty form)."""

    target: np.ndarray
    priorities: np.ndarray


def create_admm_sharing_data(target: Any, priorities: Any = None) -> ADMMSharingData:
    """Target of the aggregate and per-output priority weights (default 1)."""
    checked = admm_api.create_admm_sharing_data(target, priorities)
    return ADMMSharingData(target=checked.target, priorities=-checked.weights)


class ADMMSharingGlobalActor(ADMMGlobalActor):
    """Sharing ADMM (Boyd sec. 7.3) on the mean: g(z) = sum_k p_k |n z_k - t_k|, z and u global."""

    def __init__(self, global_objective: ADMMGlobalObjective) -> None:
        self.global_objective = global_objective

    def z_update(self, input_data: ADMMSharingData, x: list[np.ndarray], u: np.ndarray, z: np.ndarray,
                 rho: float, n: int) -> np.ndarray:
        """argmin_z sum_k p_k |n z_k - t_k| + n rho/2 ||z - u - mean(x)||^2, per output a soft threshold."""
        point = n * (u + np.mean(x, axis=0))
        weights = np.abs(np.asarray(input_data.priorities, float))
        offset = point - input_data.target
        return (input_data.target + np.sign(offset) * np.maximum(np.abs(offset) - n * weights / rho, 0.0)) / n

    def u_update(self, x: list[np.ndarray], u: np.ndarray, z: np.ndarray, rho: float, n: int) -> np.ndarray:
        return u + np.mean(x, axis=0) - z

    def init_z(self, n: int, m: int) -> np.ndarray:
        return np.zeros(m)

    def init_u(self, n: int, m: int) -> np.ndarray:
        return np.zeros(m)

    def actor_correction(self, x: list[np.ndarray], z: np.ndarray, u: np.ndarray, i: int) -> np.ndarray:
        return -x[i] + np.mean(x, axis=0) - z + u

    def primal_residual(self, x: list[np.ndarray], z: np.ndarray) -> float:
        return float(np.linalg.norm(np.mean(x, axis=0) - z))

    def dro_ros_coordinator(self, data: ADMMSharingData, options: AdmmOptions):
        if not isinstance(self.global_objective, ADMMTargetDistanceObjective):
            return None
        weights = np.abs(np.asarray(data.priorities, float))
        return AdmmCoordinator("target_distance", options), np.asarray(data.target, float), weights


@dataclass
class ADMMConsensusGlobalActor(ADMMGlobalActor):
    """Consensus ADMM, g(sum z) = rho^2/(2 alpha) ||sum_i z_i - t||^2 (z_i = v_i + (t - sum v)/(n + alpha/rho))."""

    alpha: float = 100

    def z_update(self, input_data: Any, x: list[np.ndarray], u: list[np.ndarray], z: list[np.ndarray],
                 rho: float, n: int) -> list[np.ndarray]:
        v = [xi + ui for xi, ui in zip(x, u)]
        shift = (np.asarray(input_data, float) - sum(v)) / (n + self.alpha / rho)
        return [vi + shift for vi in v]

    def u_update(self, x: list[np.ndarray], u: list[np.ndarray], z: list[np.ndarray], rho: float,
                 n: int) -> list[np.ndarray]:
        return [ui + xi - zi for ui, xi, zi in zip(u, x, z)]

    def init_z(self, n: int, m: int) -> list[np.ndarray]:
        return [np.zeros(m) for _ in range(n)]

    def init_u(self, n: int, m: int) -> list[np.ndarray]:
        return [np.zeros(m) for _ in range(n)]

    def actor_correction(self, x: list[np.ndarray], z: list[np.ndarray], u: list[np.ndarray], i: int) -> np.ndarray:
        return u[i] - z[i]

    def primal_residual(self, x: list[np.ndarray], z: list[np.ndarray]) -> float:
        return float(np.linalg.norm(np.concatenate([xi - zi for xi, zi in zip(x, z)])))

    def dro_ros_coordinator(self, data: Any, options: AdmmOptions):
        target = np.asarray(data, float)
        penalty = options.rho ** 2 / self.alpha  # the same g as z_update at the initial rho
        return (AdmmCoordinator("target_reach", options, penalty=penalty), target, np.ones_like(target))


# --- the coordinator --------------------------------------------------------------------------------
def _norm(value: Any) -> float:
    return float(np.linalg.norm(np.concatenate([np.ravel(v) for v in value]) if isinstance(value, list)
                                else np.ravel(value)))


class ADMMGenericCoordinator(Coordinator):
    """ADMM coordinator over a global actor; returns every actor's x (an `AdmmRunResults`)."""

    def __init__(self, global_actor: ADMMGlobalActor, rho: float = DEFAULTS.rho,
                 max_iters: int = DEFAULTS.max_iterations, abs_tol: float = DEFAULTS.abs_tol,
                 rel_tol: float = DEFAULTS.rel_tol) -> None:
        self.global_actor = global_actor
        self.rho, self.max_iters, self.abs_tol, self.rel_tol = rho, max_iters, abs_tol, rel_tol
        # the reference's rho is fixed (no residual balancing), and the consensus objective depends on it
        self.options = AdmmOptions(rho=rho, max_iterations=max_iters, abs_tol=abs_tol, rel_tol=rel_tol,
                                   adaptive_rho=False)

    async def start_optimization(self, carrier: Any, message_data: ADMMStart, meta: Any) -> AdmmRunResults:
        participants = carrier.others("coordinator")
        if not participants:
            raise ValueError("actors: the coordinator has no participants (empty actor list or topology)")
        in_process = self._in_process_actors(carrier, participants)
        plan = self.global_actor.dro_ros_coordinator(message_data.data, self.options)
        if in_process is not None and plan is not None:
            return await self._run_dro_ros(in_process, *plan)
        return await self._run_generic(carrier, participants, message_data.data, message_data.solution_length)

    @staticmethod
    def _in_process_actors(carrier: Any, participants: list[Any]) -> list[Any] | None:
        container = getattr(carrier, "container", None)
        if container is None or not hasattr(container, "actors"):
            return None
        actors = [container.actors[address - 1].actor for address in participants]
        return actors if all(isinstance(a, LocalActor) for a in actors) else None

    async def _run_dro_ros(self, actors: list[Any], coordinator: AdmmCoordinator, target: np.ndarray,
                           weights: np.ndarray) -> AdmmRunResults:
        start = admm_api.AdmmStart(target=target, weights=weights)
        result = await admm_api.start_coordinated_optimization(actors, coordinator, start)
        xs = [result.x[f"actor_{k}"] for k in range(1, len(actors) + 1)]
        for actor, x in zip(actors, xs):
            actor.x = np.array(x)
        if result.status is not AdmmStatus.CONVERGED:
            log.warning("ADMM stopped without converging: %s %s", result.status.value, result.message)
        return AdmmRunResults(xs, result.status, result.iterations, result)

    async def _run_generic(self, carrier: Any, participants: list[Any], data: Any, m: int) -> AdmmRunResults:
        actor, rho, n = self.global_actor, self.rho, len(participants)
        x = [np.zeros(m) for _ in range(n)]
        z, u = actor.init_z(n, m), actor.init_u(n, m)
        status, iteration = AdmmStatus.MAX_ITERATIONS, 0
        for iteration in range(1, self.max_iters + 1):
            requests = [carrier.send_awaitable(ADMMMessage(v=actor.actor_correction(x, z, u, i), rho=rho), address)
                        for i, address in enumerate(participants)]
            x = [np.asarray(reply.x, float) for reply in await asyncio.gather(*requests)]
            z_old = z
            z = actor.z_update(data, x, u, z, rho, n)
            u = actor.u_update(x, u, z, rho, n)
            r = actor.primal_residual(x, z)
            s = rho * _norm([np.asarray(a) - np.asarray(b) for a, b in zip(z, z_old)] if isinstance(z, list)
                            else [np.asarray(z) - np.asarray(z_old)])
            floor = math.sqrt(n * m) * self.abs_tol
            if r <= floor + self.rel_tol * max(_norm(x), _norm(z)) and s <= floor + self.rel_tol * rho * _norm(u):
                status = AdmmStatus.CONVERGED
                break
        if status is not AdmmStatus.CONVERGED:
            log.warning("ADMM reached max_iters = %d without converging", self.max_iters)
        return AdmmRunResults(x, status, iteration)


def create_admm_start(data: Any, length: int | None = None) -> ADMMStart:
    """An `ADMMStart`; the output count is `length`, or `data.solution_length`, or len(data.target)."""
    if length is None:
        length = getattr(data, "solution_length", None)
    if length is None and hasattr(data, "target"):
        length = len(data.target)
    if length is None:
        raise ValueError("length: cannot infer the number of outputs from data; pass it explicitly")
    return ADMMStart(data=data, solution_length=int(length))


def create_sharing_admm_start(data: ADMMSharingData) -> ADMMStart:
    return ADMMStart(data=data, solution_length=len(data.target))


def create_admm_start_consensus(target: Any) -> ADMMStart:
    """Start of a consensus run: the sum of all x should reach `target`."""
    checked = admm_api.create_admm_sharing_data(target)
    return ADMMStart(data=checked.target, solution_length=checked.target.size)


def create_sharing_target_distance_admm_coordinator() -> ADMMGenericCoordinator:
    return ADMMGenericCoordinator(ADMMSharingGlobalActor(ADMMTargetDistanceObjective()))


def create_sharing_admm_coordinator(objective: ADMMGlobalObjective) -> ADMMGenericCoordinator:
    return ADMMGenericCoordinator(ADMMSharingGlobalActor(objective))


def create_consensus_target_reach_admm_coordinator() -> ADMMGenericCoordinator:
    return ADMMGenericCoordinator(ADMMConsensusGlobalActor())


# --- flex actors ------------------------------------------------------------------------------------
class ADMMFlexActor(PolytopeFlexActor, DistributedAlgorithm):
    """x in {lb <= x <= u, C x <= d} with cost S . x (`PolytopeFlexActor`), speaking both protocols."""

    def __init__(self, lb: Any, u: Any, C: Any, d: Any, S: Any) -> None:
        super().__init__(lb, u, C, d, S)
        self.u = self.ub

    async def on_exchange_message(self, carrier: Any, message_data: Any, meta: Any) -> None:
        if isinstance(message_data, ADMMMessage):
            point = -np.asarray(message_data.v, float)
            if point.shape != self.lb.shape:
                raise ValueError(f"{self.name}: has {self.lb.size} outputs, the coordinator's signal v has "
                                 f"{point.size} (solution_length)")
            self.x = self.solve(point, float(message_data.rho))
            carrier.reply_to_other(ADMMAnswer(x=self.x), meta)
        else:
            PolytopeFlexActor.on_exchange_message(self, carrier, message_data, meta)


class OneToManyFlexActor(ADMMFlexActor):
    """One input p in [0, capacity] feeding outputs x = eta p; cost -P . x. The x-update is closed form."""

    def __init__(self, in_capacity: float, eta: Any, P: Any = None) -> None:
        eta = np.asarray(eta, float)
        priorities = np.zeros_like(eta) if P is None else np.asarray(P, float)
        if priorities.shape != eta.shape:
            raise ValueError(f"P: has {priorities.size} entries, eta has {eta.size}")
        self.model = FlexActor(in_capacity, eta, cost=-float(priorities @ eta))
        self.efficiency = self.model.efficiency
        full = in_capacity * eta
        pivot = int(np.argmax(np.abs(full)))
        rows = [row for j in range(eta.size) if j != pivot and full[pivot] != 0
                for row in (_ratio_row(full, j, pivot), -_ratio_row(full, j, pivot))]
        C = np.array(rows) if rows else np.zeros((0, eta.size))
        super().__init__(np.minimum(full, 0.0), np.maximum(full, 0.0), C, np.zeros(len(rows)), -priorities)

    def solve(self, point: np.ndarray, rho: float) -> np.ndarray:
        return self.model.efficiency * self.model.input_for(np.asarray(point, float), rho)


def _ratio_row(full: np.ndarray, j: int, pivot: int) -> np.ndarray:
    """x_j / full_j = x_pivot / full_pivot as the row (full_pivot e_j - full_j e_pivot) x = 0."""
    row = np.zeros(full.size)
    row[j], row[pivot] = full[pivot], -full[j]
    return row


def create_admm_flex_actor_one_to_many(in_capacity: float, eta: Any, P: Any = None) -> ADMMFlexActor:
    """A one-to-many flex actor: outputs x = eta p, 0 <= p <= in_capacity, priorities P (reward P . x)."""
    return OneToManyFlexActor(in_capacity, eta, P)


def admm_flex_result(actor: ADMMFlexActor) -> np.ndarray:
    """The actor's latest x."""
    return actor.x
