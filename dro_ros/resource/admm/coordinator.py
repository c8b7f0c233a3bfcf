"""ADMM with a coordinator for resources coupled through their aggregate (Boyd et al. 2011).

    minimize  sum_i f_i(x_i) + g(sum_i x_i)

f_i is actor i's local problem (`flex.py`), g a global objective on the aggregate, held by the
coordinator. Scaled form with one copy z_i per actor and the constraint x_i = z_i (Boyd sec. 7.3, the
sharing problem, written per actor so that every actor needs only its own message):

    x_i <- argmin_x f_i(x) + rho/2 ||x - (z_i - u_i)||^2                  (each actor, concurrently)
    z   <- argmin_z g(sum_i z_i) + rho/2 sum_i ||z_i - v_i||^2,  v_i = x_i + u_i   (coordinator)
         =  v_i + d  for all i,  d = (prox_{(N/rho) g}(sum_i v_i) - sum_i v_i) / N
    u_i <- u_i + x_i - z_i

Stopping (Boyd sec. 3.3.1): primal residual r = ||x - z||, dual residual s = rho ||z - z_prev|| (over all
actors); stop when r <= sqrt(N m) eps_abs + eps_rel max(||x||, ||z||) and
s <= sqrt(N m) eps_abs + eps_rel rho ||u||.

Residual balancing (sec. 3.4.1, eq. 3.13): rho *= tau when r > mu s, rho /= tau when s > mu r, and the
scaled dual u = y / rho is rescaled with it (u /= tau, resp. u *= tau) so that y is unchanged. ADMM's
convergence proof holds for a varying rho only if rho is fixed after finitely many changes (sec. 3.4.1).
On LPs the residuals spiral, r and s swap dominance every few iterations, and unrestricted balancing
changes rho forever and never converges. So rho is balanced every `adapt_interval` iterations and at
most `max_rho_changes` times, then held.

A run that reaches `max_iterations` returns the best iterate seen (lowest sum_i f_i(x_i) + g(sum_i x_i);
every iterate x_i is feasible for its actor), says MAX_ITERATIONS in its result and in each actor's
`status`, and logs a warning.

Global objectives (`TargetDistance`, `TargetReach`) only need their prox on the aggregate.
"""
from __future__ import annotations

import enum
import logging
import math
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from dro_ros.core.carrier import Carrier, MessageMeta, ReplyTimeout
from dro_ros.core.codec import FloatArray, wire_message

log = logging.getLogger("dro_ros.admm")


class AdmmError(RuntimeError):
    """The run cannot go on: an actor failed or fell silent; the text names the actor and the field."""


# --- messages -------------------------------------------------------------------------------------
@wire_message("admm")
@dataclass
class AdmmStart:
    """Start a run: the aggregate target t and its per-output weights w."""

    target: FloatArray
    weights: FloatArray


@wire_message("admm")
@dataclass
class LocalStep:
    """Coordinator -> actor i: solve the x-update around `point` = z_i - u_i with penalty `rho`."""

    iteration: int
    point: FloatArray
    rho: float


@wire_message("admm")
@dataclass
class LocalSolution:
    """Actor -> coordinator: x_i and f_i(x_i); or ok = False and the reason."""

    iteration: int
    x: FloatArray
    cost: float
    ok: bool
    error: str


@wire_message("admm")
@dataclass
class RunEnded:
    """Coordinator -> actor: the run is over; `x` is the actor's part of the returned iterate (empty if the
    run failed), `status` as in `AdmmStatus`, `reason` why it did not converge or failed."""

    iteration: int
    x: FloatArray
    status: str
    reason: str


# --- global objectives ------------------------------------------------------------------------------
class GlobalObjective(Protocol):
    def value(self, aggregate: np.ndarray) -> float: ...

    def prox(self, point: np.ndarray, step: float) -> np.ndarray:
        """argmin_y g(y) + 1/(2 step) ||y - point||^2."""


@dataclass(frozen=True)
class TargetDistance:
    """g(S) = sum_k w_k |S_k - t_k| (the reference's sharing target distance); prox = soft threshold."""

    target: np.ndarray
    weights: np.ndarray

    def value(self, aggregate: np.ndarray) -> float:
        return float(self.weights @ np.abs(aggregate - self.target))

    def prox(self, point: np.ndarray, step: float) -> np.ndarray:
        offset = point - self.target
        return self.target + np.sign(offset) * np.maximum(np.abs(offset) - step * self.weights, 0.0)


@dataclass(frozen=True)
class TargetReach:
    """g(S) = penalty/2 sum_k w_k (S_k - t_k)^2.

    `penalty` is the price of one unit of squared deviation of the aggregate from the target: larger
    values pull the sum closer to the target (monotone; as penalty -> inf, sum x_i = t), independently
    of rho. (The reference's alpha enters as rho^2 / alpha, so there a larger alpha pulls less.)
    """

    target: np.ndarray
    weights: np.ndarray
    penalty: float

    def value(self, aggregate: np.ndarray) -> float:
        return float(0.5 * self.penalty * self.weights @ (aggregate - self.target) ** 2)

    def prox(self, point: np.ndarray, step: float) -> np.ndarray:
        scale = step * self.penalty * self.weights
        return (point + scale * self.target) / (1.0 + scale)


# --- results ----------------------------------------------------------------------------------------
class AdmmStatus(enum.Enum):
    RUNNING = "running"
    CONVERGED = "converged"            # both residuals within tolerance
    MAX_ITERATIONS = "max_iterations"  # stopped by the iteration limit
    FAILED = "failed"                  # an actor failed or fell silent (see `message`)


@dataclass(frozen=True)
class AdmmResult:
    """Solution per actor, aggregate, objective sum f_i + g, iterations, residuals, status.

    `x` is the final iterate when converged, else the best iterate (at `best_iteration`); `message` says
    why a run did not converge or failed.
    """

    x: dict[str, np.ndarray]
    aggregate: np.ndarray
    objective: float
    iterations: int
    primal_residual: float
    dual_residual: float
    rho: float
    status: AdmmStatus
    message: str = ""
    messages: int = 0
    best_iteration: int = 0

    @property
    def converged(self) -> bool:
        return self.status is AdmmStatus.CONVERGED


@dataclass(frozen=True)
class AdmmOptions:
    """Penalty rho, tolerances (Boyd sec. 3.3.1), iteration limit, residual balancing (module docstring),
    reply timeout."""

    rho: float = 1.0
    abs_tol: float = 1e-7
    rel_tol: float = 1e-7
    max_iterations: int = 10_000
    adaptive_rho: bool = True
    mu: float = 10.0
    tau: float = 2.0
    adapt_interval: int = 10
    max_rho_changes: int = 20
    reply_timeout: float = 10.0

    def __post_init__(self) -> None:
        for name in ("rho", "abs_tol", "rel_tol", "reply_timeout"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name}: must be positive, got {getattr(self, name)}")
        for name in ("max_iterations", "adapt_interval"):
            if not (isinstance(getattr(self, name), int) and getattr(self, name) >= 1):
                raise ValueError(f"{name}: must be an integer >= 1, got {getattr(self, name)!r}")
        if not (isinstance(self.max_rho_changes, int) and self.max_rho_changes >= 0):
            raise ValueError(f"max_rho_changes: must be an integer >= 0, got {self.max_rho_changes!r}")
        if self.mu <= 1 or self.tau <= 1:
            raise ValueError(f"mu and tau: must be > 1, got mu={self.mu}, tau={self.tau}")


@dataclass(frozen=True)
class _Iterate:
    """An iterate x (one row per actor) and its objective sum_i f_i(x_i) + g(sum_i x_i)."""

    iteration: int
    x: np.ndarray
    objective: float


# --- the coordinator --------------------------------------------------------------------------------
@dataclass
class AdmmCoordinator:
    """Runs the z- and u-updates and the stopping test; its neighbours (`carrier.others()`) are the actors.

    Started by an `AdmmStart` message, or at `on_start` when built with `start`.
    """

    kind: str  # "target_distance" (sharing) | "target_reach" (consensus)
    options: AdmmOptions = field(default_factory=AdmmOptions)
    penalty: float = 1.0
    start: AdmmStart | None = None
    status: AdmmStatus = AdmmStatus.RUNNING
    _result: AdmmResult | None = None

    def __post_init__(self) -> None:
        if self.kind not in ("target_distance", "target_reach"):
            raise ValueError(f"kind: expected target_distance or target_reach, got {self.kind!r}")
        if not (self.penalty > 0 and math.isfinite(self.penalty)):
            raise ValueError(f"penalty: must be positive and finite, got {self.penalty}")

    @property
    def finished(self) -> bool:
        return self.status is not AdmmStatus.RUNNING

    def result(self) -> AdmmResult | None:
        return self._result

    async def on_start(self, carrier: Carrier) -> None:
        if self.start is not None:
            await self._run(carrier, self.start)

    async def on_exchange_message(self, carrier: Carrier, content: Any, meta: MessageMeta) -> None:
        if isinstance(content, AdmmStart) and not self.finished:
            await self._run(carrier, content)

    def _objective(self, start: AdmmStart) -> GlobalObjective:
        """g of the run, after checking the start message (it may come from the network)."""
        target, weights = np.asarray(start.target, float), np.asarray(start.weights, float)
        if target.ndim != 1 or target.size == 0 or weights.shape != target.shape:
            raise AdmmError(f"start: target has shape {target.shape} and weights {weights.shape}; "
                            f"expected two vectors of one length")
        if not (np.isfinite(target).all() and np.isfinite(weights).all()):
            raise AdmmError(f"start: target or weights contain NaN or infinite values "
                            f"(target {target.tolist()}, weights {weights.tolist()})")
        if (weights < 0).any():
            raise AdmmError(f"start: weights must be non-negative, got {weights.tolist()}")
        if self.kind == "target_distance":
            return TargetDistance(target, weights)
        return TargetReach(target, weights, self.penalty)

    async def _run(self, carrier: Carrier, start: AdmmStart) -> None:
        actors = carrier.others()
        opts = self.options
        target = np.asarray(start.target, float)
        n, m = len(actors), target.size
        x, z, u = np.zeros((n, m)), np.zeros((n, m)), np.zeros((n, m))
        best = _Iterate(0, x, math.inf)
        rho, r, s, sent, rho_changes = opts.rho, math.inf, math.inf, 0, 0
        status, message, iteration = AdmmStatus.MAX_ITERATIONS, "", 0
        try:
            objective = self._objective(start)
            if n == 0:
                raise AdmmError("actors: the coordinator has no actors (empty participant list)")
            for iteration in range(1, opts.max_iterations + 1):
                x, costs = await self._local_steps(carrier, actors, iteration, z - u, rho, m)
                sent += n
                value = float(costs.sum() + objective.value(x.sum(axis=0)))
                if value < best.objective:
                    best = _Iterate(iteration, x, value)
                v = x + u
                total = v.sum(axis=0)
                z_prev, z = z, v + (objective.prox(total, n / rho) - total) / n
                u = v - z
                r = float(np.linalg.norm(x - z))
                s = float(rho * np.linalg.norm(z - z_prev))
                eps_pri = math.sqrt(n * m) * opts.abs_tol + opts.rel_tol * max(np.linalg.norm(x), np.linalg.norm(z))
                eps_dual = math.sqrt(n * m) * opts.abs_tol + opts.rel_tol * rho * np.linalg.norm(u)
                if r <= eps_pri and s <= eps_dual:
                    status, best = AdmmStatus.CONVERGED, _Iterate(iteration, x, value)
                    break
                if opts.adaptive_rho and rho_changes < opts.max_rho_changes and iteration % opts.adapt_interval == 0:
                    factor = opts.tau if r > opts.mu * s else 1 / opts.tau if s > opts.mu * r else 1.0
                    if factor != 1.0:
                        rho, u, rho_changes = rho * factor, u / factor, rho_changes + 1
            if status is AdmmStatus.MAX_ITERATIONS:
                message = (f"not converged after {iteration} iterations (primal residual {r:.3g} > {eps_pri:.3g} "
                           f"or dual residual {s:.3g} > {eps_dual:.3g}); x is the best iterate, iteration "
                           f"{best.iteration}, objective {best.objective:.9g}")
                log.warning("ADMM %s: %s", self.kind, message)
        except AdmmError as error:
            status, message = AdmmStatus.FAILED, str(error)
        aggregate = best.x.sum(axis=0)
        self._result = AdmmResult(
            x=dict(zip(actors, best.x)), aggregate=aggregate,
            objective=best.objective if best.iteration else math.nan, iterations=iteration,
            primal_residual=r, dual_residual=s, rho=rho, status=status, message=message, messages=2 * sent + n,
            best_iteration=best.iteration)
        for actor, x_actor in zip(actors, best.x):
            final = x_actor if status is not AdmmStatus.FAILED else np.zeros(0)
            carrier.send_to_other(RunEnded(iteration, final, status.value, message), actor)
        self.status = status
        if status is AdmmStatus.FAILED:
            raise AdmmError(message)  # reported in the run report as well

    async def _local_steps(self, carrier: Carrier, actors: list[str], iteration: int, points: np.ndarray,
                           rho: float, m: int) -> tuple[np.ndarray, np.ndarray]:
        requests = [(LocalStep(iteration, point, rho), actor) for actor, point in zip(actors, points)]
        try:
            replies = await carrier.send_awaitable_many(requests, timeout=self.options.reply_timeout)
        except ReplyTimeout as error:
            raise AdmmError(f"{', '.join(error.receivers)}: no local solution within "
                            f"{self.options.reply_timeout:g} s (iteration {iteration})") from None
        for actor, reply in zip(actors, replies):
            if not reply.ok:
                raise AdmmError(f"{actor}: {reply.error}")
            if reply.x.shape != (m,):
                raise AdmmError(f"{actor}: x has shape {reply.x.shape}; expected ({m},)")
        x, costs = np.stack([reply.x for reply in replies]), np.array([reply.cost for reply in replies])
        finite = np.isfinite(x).all(axis=1) & np.isfinite(costs)
        if not finite.all():
            raise AdmmError(f"{actors[int(np.argmin(finite))]}: x or cost is not finite")
        return x, costs
