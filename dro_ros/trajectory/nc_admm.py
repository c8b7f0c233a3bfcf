"""Neighbourhood-consensus ADMM (NC-ADMM, thesis Alg. 1) for the fleet problem (5.8), one agent per robot.

Agent i owns S_i = {i} u N_i and one neighbourhood problem P_i (5.9) with the ADMM terms, a `Stage` built
once and re-solved with new parameters. Iteration k = 1, 2, ... (z~_i^0 = lam~_i^0 = 0):

    x~_i^k   = argmin_{x~_i in X~_i} sum_{j in S_i} w_j ||u_ji||^2 + lam~_i^T (x~_i - z~_i)
                                                         + rho/2 ||x~_i - z~_i||^2       (2.14)
    z_i^k    = 1/|S_i| sum_{j in S_i} x_ij^k                                             (2.15)
    lam~_i^k = lam~_i^(k-1) + rho (x~_i^k - z~_i^k)                                      (2.16)

where x~_i = (u_ji)_{j in S_i} are agent i's opinions of its neighbourhood's inputs and z~_i = (z_j)_{j in S_i}.
Two messages per neighbour and iteration: `Opinion` (x_ji^k, plus the sender's own u_i^k = x_ii^k) and
`Consensus` (z_i^k). An agent's trajectory is its own opinion u_i^k, which meets its own constraints.

Over-relaxation (Boyd et al. 2011, Sec. 3.4.3), `relaxation` = alpha in (0, 2), alpha = 1 being (2.15)-(2.16)
as stated: x^k is replaced by alpha x^k + (1 - alpha) z^(k-1) in both updates,

    z_i^k    = alpha/|S_i| sum_{j in S_i} x_ij^k + (1 - alpha) z_i^(k-1)
    lam~_i^k = lam~_i^(k-1) + rho (alpha x~_i^k + (1 - alpha) z~_i^(k-1) - z~_i^k),

which keeps the fixed point (sum_j lam_ji stays 0) and needs fewer iterations (README: the platoon).

Objective split. (2.13) sums f_j over S_i in every P_i, so f_j enters |S_j| times and the consensus fixed
point minimizes sum_j |S_j| f_j, which is not f (5.7) when degrees differ: on a path the ends count twice,
the middle three times. The default `weighting="degree"` uses w_j = 1 / |S_j|, so that
sum_i sum_{j in S_i} w_j f_j = f and the fixed point is the centralized optimum; `weighting="thesis"`
keeps (2.13) as written (w_j = 1).

Stopping (Sec. 2.4), with no coordinator. Both tests are sums of parts that each agent j computes right
after the opinions of iteration k arrive:

* the consensus residual (2.19), regrouped by owner: ||r^k||^2 = sum_i ||x~_i - z~_i||^2 = sum_j e_j,
  e_j = sum_{i in S_j} ||x_ji - z_j||^2 (agent j holds every opinion of itself), with z_j the mean of the
  opinions (2.15) also under over-relaxation, so that it measures disagreement, not the lag of z;
* the feasibility residual s^k (Sec. 5.1, Fig. 5.3), the positive parts of every constraint of (5.8) at the
  own trajectories: ||s^k||^2 = sum_j sigma_j, sigma_j the squared positive parts of j's own constraints
  and of its coupling with each neighbour l > j, whose own u_l came in the opinion message (units as in
  `checker.check`).

Every agent floods the (N, 2) array of (e_j, sigma_j) of iteration k by element-wise max (NaN where still
unknown), one hop per message, while the iterations go on. D messages later (D >= the graph's diameter)
every agent holds all of it, so all evaluate the same exact test, ||r^k|| <= eps (`stop="residual"`) or
||s^k|| <= feasibility_tol (`stop="feasible"`, which bounds every single violation too), at the same phase,
stop together and return their own trajectory of iteration k, kept until then. The price is about D/2
extra iterations (two messages per iteration) and 2N floats per pending iteration in each message.
Pairs coupled in (5.8) that are not graph edges are outside NC-ADMM's neighbourhood coupling: no agent
tests them, the independent checker does.

Local solves. From iteration 2 on, a local problem that is a QP (the platoon: linear rows only) is first
re-solved exactly from the previous iteration's active set (`active_set.ActiveSetQp`, one to three sparse
LU solves); Ipopt, warm-started from the previous primal and dual, runs only when that set does not settle
(`active_set=False`: always Ipopt). The iterates are the same; the times are in the README.

A failed local solve stops the agent with `failure` set; an `Abort` is flooded so that every agent stops.
"""
from __future__ import annotations

import asyncio
import enum
import functools
import math
from dataclasses import dataclass, replace
from typing import Any, Iterable, Literal, Mapping, Sequence

import numpy as np

from dro_ros.core.carrier import Carrier, MessageMeta, MessageRejected
from dro_ros.core.codec import FloatArray, wire_message
from dro_ros.core.simple import NetworkModel, run_in_process
from dro_ros.trajectory.active_set import EXACT, ActiveSetQp
from dro_ros.trajectory.outcome import AgentOutcome, CriticalPath, FleetResult, agent_names, fleet_result
from dro_ros.trajectory.constraints import (coupling_excess, input_excess, obstacle_excess, speed_excess,
                                            terminal_position_excess, terminal_velocity_excess, traffic_excess)
from dro_ros.trajectory.problem import FleetProblem
from dro_ros.trajectory.scenarios import Scenario, require_agent
from dro_ros.trajectory.stage import WARM_IPOPT, SolveResult, Stage


@wire_message("nc_admm")
@dataclass
class Opinion:
    """First message of iteration k: x_ji^k for the receiver j, the sender's own u_i^k, the flood."""

    iteration: int
    opinion: FloatArray     # (H, m)
    own: FloatArray         # (H, m)
    flood_from: int         # iteration of flood[0]
    flood: FloatArray       # (pending iterations, N, 2): (e_j, sigma_j), NaN where unknown
    ready: float            # the sender's critical-path clock


@wire_message("nc_admm")
@dataclass
class Consensus:
    """Second message of iteration k: z_i^k (2.15) and the flood."""

    iteration: int
    z: FloatArray
    flood_from: int
    flood: FloatArray
    ready: float


@wire_message("nc_admm")
@dataclass
class Abort:
    """The local problem of `agent` failed at `iteration`: stop, and pass it on."""

    iteration: int
    agent: int


LOCAL_IPOPT = {"tol": 1e-9}


class NcAdmmStop(enum.Enum):
    RESIDUAL = "residual"                # ||r^k|| <= eps (2.19)
    FEASIBLE = "feasible"                # ||s^k|| <= feasibility_tol
    ITERATION_LIMIT = "iteration_limit"  # max_iterations solves without either
    FAILED = "failed"                    # this agent's local problem failed
    ABORTED = "aborted"                  # another agent's local problem failed


@dataclass(frozen=True)
class NcAdmmSettings:
    rho: float = 1.0
    stop: Literal["residual", "feasible"] = "residual"
    eps: float = 1e-3                    # bound on ||r^k|| (2.19)
    feasibility_tol: float = 1e-6        # bound on ||s^k||
    max_iterations: int = 500
    diameter_bound: int | None = None    # D >= the graph's diameter; None: N - 1
    weighting: Literal["degree", "thesis"] = "degree"
    active_set: bool = True              # exact re-solves of QP local problems from the last active set
    relaxation: float = 1.0              # alpha of over-relaxed ADMM; 1: (2.15)-(2.16) as stated

    def __post_init__(self) -> None:
        if not (self.rho > 0 and self.eps > 0 and self.feasibility_tol > 0):
            raise ValueError("rho, eps and feasibility_tol must be positive")
        if not 0 < self.relaxation < 2:
            raise ValueError(f"relaxation: expected 0 < alpha < 2, got {self.relaxation}")
        if self.stop not in ("residual", "feasible"):
            raise ValueError(f"stop: expected 'residual' or 'feasible', got {self.stop!r}")
        if self.weighting not in ("degree", "thesis"):
            raise ValueError(f"weighting: expected 'degree' or 'thesis', got {self.weighting!r}")
        if self.max_iterations < 1 or (self.diameter_bound is not None and self.diameter_bound < 0):
            raise ValueError("max_iterations must be >= 1 and diameter_bound >= 0")


class NcAdmmAgent:
    """One robot of Alg. 1; see the module docstring. `neighbours` maps address -> agent index and
    `sizes` gives |S_j| for j in S_i (the weights w_j = 1 / |S_j|)."""

    def __init__(self, problem: FleetProblem, index: int, neighbours: Mapping[str, int],
                 sizes: Mapping[int, int], settings: NcAdmmSettings = NcAdmmSettings()) -> None:
        self.problem, self.index, self.settings = problem, index, settings
        self.peers = dict(sorted(neighbours.items(), key=lambda item: item[1]))
        self.members = sorted({index, *self.peers.values()})                      # S_i
        if index in self.peers.values():
            raise ValueError(f"neighbours: agent {index} is listed as its own neighbour")
        if any(j not in sizes for j in self.members):
            raise ValueError(f"sizes: agent {index} needs |S_j| for every j in S_i = {self.members}")
        self.weights = [1.0 if settings.weighting == "thesis" else 1.0 / sizes[j] for j in self.members]
        self.diameter = problem.n_agents - 1 if settings.diameter_bound is None else settings.diameter_bound
        # ADMM stalls at the accuracy of its local solves: solve them tighter than the default tol
        self._first = Stage(problem, self.members, admm=True, ipopt=LOCAL_IPOPT)
        self._warm = Stage(problem, self.members, admm=True, ipopt={**WARM_IPOPT, **LOCAL_IPOPT})  # iteration 2 on
        exact = ActiveSetQp(self._warm) if settings.active_set else None
        self._exact = exact if exact is not None and exact.applicable else None
        self._active: np.ndarray | None = None         # the last solution's active rows, for `_exact`
        zero = np.zeros((problem.horizon, problem.dim))
        self.z = {j: zero for j in self.members}       # z~_i
        self.lam = {j: zero for j in self.members}     # lam~_i
        self.x: dict[int, np.ndarray] = {}             # x~_i^k
        self.iteration = 0
        self.path = CriticalPath()
        self.solves = 0
        self.exact_solves = 0                          # solves done by `_exact`, not Ipopt
        self.stop: NcAdmmStop | None = None
        self.failure: str | None = None
        self.solution: np.ndarray | None = None
        self.solution_iteration = 0
        self.residual_parts: list[float] = []          # e_i per iteration
        self.feasibility_parts: list[float] = []       # sigma_i per iteration
        self._guess: np.ndarray | None = None
        self._dual: np.ndarray | None = None
        self._own_z = zero
        self._phase = 0                                # 2k: waiting for opinions of k, 2k + 1: consensus
        self._inbox: dict[int, dict[str, Any]] = {}
        self._pending: dict[int, np.ndarray] = {}      # iteration -> flood entry (N, 2)
        self._owns: dict[int, np.ndarray] = {}         # iteration -> own u_i, until decided

    # --- carrier hooks ---------------------------------------------------------------------------
    async def on_start(self, carrier: Carrier) -> None:
        if sorted(carrier.others()) != sorted(self.peers):
            raise ValueError(f"agent {self.index}: carrier neighbours {carrier.others()} are not {sorted(self.peers)}")
        await self._solve(carrier)
        await self._advance(carrier)

    async def on_exchange_message(self, carrier: Carrier, content: Any, meta: MessageMeta) -> None:
        if self.finished or meta.sender not in self.peers:
            return
        self._check(content, meta.sender)
        if isinstance(content, Abort):
            self._finish(NcAdmmStop.ABORTED)
            for address in self.peers:
                if address != meta.sender:
                    carrier.send_to_other(content, address)
            return
        phase = 2 * content.iteration + isinstance(content, Consensus)
        if not self._phase <= phase <= self._phase + 2:   # each phase's message comes once, at most one ahead
            raise MessageRejected(f"{meta.sender} sent phase {phase} during phase {self._phase}")
        self._inbox.setdefault(phase, {})[meta.sender] = content
        await self._advance(carrier)

    def _check(self, content: Any, sender: str) -> None:
        """A neighbour's message: an iteration >= 1, inputs of shape (H, m) and finite, flood shares
        (k, N, 2) >= 0 (NaN: unknown), a finite clock."""
        if not isinstance(content, (Opinion, Consensus, Abort)):
            raise MessageRejected(f"agent {self.index}: unexpected message {type(content).__name__} from {sender}")
        if content.iteration < 1:
            raise MessageRejected(f"iteration: {sender} sent iteration {content.iteration}, expected >= 1")
        if isinstance(content, Abort):
            return
        shape = (self.problem.horizon, self.problem.dim)
        arrays = {"opinion": content.opinion, "own": content.own} if isinstance(content, Opinion) else {"z": content.z}
        for name, array in arrays.items():
            if array.shape != shape or not np.all(np.isfinite(array)):
                raise MessageRejected(f"{name}: {sender} sent shape {array.shape}, expected finite values of "
                                      f"shape {shape}")
        flood = content.flood
        if flood.ndim != 3 or flood.shape[1:] != (self.problem.n_agents, 2) or np.any(flood < 0) \
                or np.any(np.isinf(flood)):
            raise MessageRejected(f"flood: {sender} sent shape {flood.shape}, expected shares >= 0 (or NaN) of "
                                  f"shape (k, {self.problem.n_agents}, 2)")
        if not (math.isfinite(content.ready) and content.ready >= 0):
            raise MessageRejected(f"ready: {sender} sent the clock {content.ready}, expected finite seconds >= 0")

    async def _advance(self, carrier: Carrier) -> None:
        """Run every phase whose messages have all arrived (a neighbour may be one phase ahead)."""
        while not self.finished and len(self._inbox.get(self._phase, ())) == len(self.peers):
            inbound = self._inbox.pop(self._phase, {})
            messages = {self.peers[address]: message for address, message in inbound.items()}
            for message in messages.values():
                self.path.heard(message.ready)
            if self._phase % 2 == 0:
                self._on_opinions(carrier, messages)
            else:
                await self._on_consensus(carrier, messages)

    # --- Alg. 1 ----------------------------------------------------------------------------------
    async def _solve(self, carrier: Carrier) -> None:
        """(2.14) (`_local_solve`); then send the opinions."""
        self.iteration = k = self.iteration + 1
        parameters = self._warm.parameters(weights=self.weights, z=self.z, lam=self.lam, rho=self.settings.rho)
        result, _ = await self.path.compute(carrier, functools.partial(self._local_solve, parameters))
        self.solves += 1
        self.exact_solves += result.return_status == EXACT
        if not result.ok:
            self.failure = f"iteration {k}: local problem {result.status.value}"
            self._finish(NcAdmmStop.FAILED)
            for address in self.peers:
                carrier.send_to_other(Abort(iteration=k, agent=self.index), address)
            return
        self._guess, self._dual, self.x = result.primal, result.dual, result.inputs
        flood = self._flood_payload()
        for address, j in self.peers.items():
            carrier.send_to_other(Opinion(iteration=k, opinion=self.x[j], own=self.x[self.index],
                                          ready=self.path.ready, **flood), address)
        self._phase = 2 * k

    def _local_solve(self, parameters: np.ndarray) -> SolveResult:
        """(2.14) exactly from the last active set when possible, else by Ipopt (run in the compute thread)."""
        result = self._exact.solve(parameters, self._active) if self._exact and self._active is not None else None
        if result is None:
            stage = self._first if self.iteration == 1 else self._warm
            result = stage.solve(parameters, self._guess, dual=self._dual)
        if self._exact and result.ok:
            self._active = self._exact.active_rows(result, parameters)
        return result

    def _on_opinions(self, carrier: Carrier, messages: dict[int, Opinion]) -> None:
        """(2.15), this agent's parts of ||r^k||^2 and ||s^k||^2, the flood; then send z_i."""
        k, own = self.iteration, self.x[self.index]
        opinions = [own if j == self.index else messages[j].opinion for j in self.members]
        mean, alpha = np.mean(opinions, axis=0), self.settings.relaxation
        self._own_z = alpha * mean + (1 - alpha) * self.z[self.index]
        residual = float(sum(np.sum((x - mean) ** 2) for x in opinions))
        infeasibility = local_infeasibility(self.problem, self.index,
                                            {self.index: own, **{j: m.own for j, m in messages.items()}})
        self.residual_parts.append(residual)
        self.feasibility_parts.append(infeasibility)
        entry = np.full((self.problem.n_agents, 2), np.nan)
        entry[self.index] = residual, infeasibility
        self._pending[k], self._owns[k] = entry, own
        self._flood(messages.values())
        if not self.finished and k >= self.settings.max_iterations:
            self._finish(NcAdmmStop.ITERATION_LIMIT, own, k)
        if self.finished:
            return
        flood = self._flood_payload()
        for address in self.peers:
            carrier.send_to_other(Consensus(iteration=k, z=self._own_z, ready=self.path.ready, **flood), address)
        self._phase += 1

    async def _on_consensus(self, carrier: Carrier, messages: dict[int, Consensus]) -> None:
        """(2.16), the flood; then the next iteration."""
        alpha, previous = self.settings.relaxation, self.z
        self.z = {j: self._own_z if j == self.index else messages[j].z for j in self.members}
        self.lam = {j: self.lam[j] + self.settings.rho * (alpha * self.x[j] + (1 - alpha) * previous[j] - self.z[j])
                    for j in self.members}
        self._flood(messages.values())
        if not self.finished:
            await self._solve(carrier)

    # --- the coordinator-free stop ---------------------------------------------------------------
    def _flood_payload(self) -> dict[str, Any]:
        iterations = sorted(self._pending)
        rows = np.array([self._pending[k] for k in iterations]).reshape(len(iterations), self.problem.n_agents, 2)
        return {"flood_from": iterations[0] if iterations else 0, "flood": rows}

    def _flood(self, messages: Iterable[Opinion | Consensus]) -> None:
        """Merge one more hop; the iteration whose entry is now D hops old is known everywhere: test it."""
        for message in messages:
            for offset, row in enumerate(message.flood):
                k = message.flood_from + offset
                if k in self._pending:
                    self._pending[k] = np.fmax(self._pending[k], row)
        hops = self._phase - self.diameter
        if hops % 2 or hops // 2 not in self._pending:
            return
        k = hops // 2
        entry, own = self._pending.pop(k), self._owns.pop(k)
        if np.isnan(entry).any():
            raise RuntimeError(f"agent {self.index}: diameter_bound {self.diameter} is below the graph's "
                               f"diameter; iteration {k} did not reach agents {np.flatnonzero(np.isnan(entry[:, 0]))}")
        residual, infeasibility = np.sqrt(entry.sum(axis=0))
        if self.settings.stop == "residual" and residual <= self.settings.eps:
            self._finish(NcAdmmStop.RESIDUAL, own, k)
        elif self.settings.stop == "feasible" and infeasibility <= self.settings.feasibility_tol:
            self._finish(NcAdmmStop.FEASIBLE, own, k)

    def _finish(self, stop: NcAdmmStop, solution: np.ndarray | None = None, iteration: int = 0) -> None:
        self.stop, self.solution, self.solution_iteration = stop, solution, iteration
        self._pending.clear()
        self._owns.clear()

    # --- results ---------------------------------------------------------------------------------
    @property
    def finished(self) -> bool:
        return self.stop is not None

    def waiting_for(self) -> list[str]:
        have = self._inbox.get(self._phase, {})
        return [address for address in self.peers if address not in have]

    def result(self) -> AgentOutcome:
        return AgentOutcome(
            agent=self.index, inputs=self.solution, critical_path=self.path.ready, compute=self.path.spent,
            solves=self.solves, failure=self.failure,
            details={"stop": self.stop.value if self.stop else "running", "iterations": self.iteration,
                     "exact_solves": self.exact_solves,
                     "solution_iteration": self.solution_iteration, "residual_parts": self.residual_parts,
                     "feasibility_parts": self.feasibility_parts})


def local_infeasibility(problem: FleetProblem, agent: int, own: Mapping[int, np.ndarray]) -> float:
    """sigma_agent: the squared positive parts of `agent`'s own constraints of (5.8) (obstacles and traffic included) and of its coupling with
    each j > agent in `own` (own trajectories u (H, m)), at t = 0..H, measured as the checker measures them
    (`constraints`)."""
    states = problem.rollout(own[agent], problem.initial[agent])
    position, velocity = states[:, :problem.dim], states[:, problem.dim:]
    terminal = problem.terminals[agent]
    excess = [np.atleast_1d(terminal_position_excess(terminal, position[-1])),
              np.atleast_1d(terminal_velocity_excess(terminal, velocity[-1])),
              speed_excess(problem, velocity), input_excess(problem, own[agent]),
              obstacle_excess(problem, position).ravel(), traffic_excess(problem, position).ravel()]
    for first, second in problem.coupled_pairs(set(own)):
        if first == agent:
            other = problem.rollout(own[second], problem.initial[second])[:, :problem.dim]
            excess.append(coupling_excess(problem, position, other))
    return float(np.sum(np.maximum(np.concatenate(excess), 0.0) ** 2))


def nc_admm_agent(scenario: Scenario, index: int, names: Sequence[str],
                  settings: NcAdmmSettings = NcAdmmSettings()) -> NcAdmmAgent:
    """The agent of node `index` of `scenario.graph`, its peers addressed by `names` (one per agent); the
    diameter bound defaults to the graph's diameter. The registered factory (`dro_ros.spec.registry`): the
    scenario is checked (`scenarios.require_agent`) before anything is built."""
    require_agent(scenario, index, names)
    graph = scenario.graph
    if settings.diameter_bound is None:
        settings = replace(settings, diameter_bound=graph.diameter())
    sizes = {j: graph.degree(j) + 1 for j in range(graph.n)}
    return NcAdmmAgent(scenario.problem, index, {names[j]: j for j in graph.neighbours[index]}, sizes, settings)


def nc_admm_agents(scenario: Scenario, settings: NcAdmmSettings = NcAdmmSettings()) -> list[NcAdmmAgent]:
    """One `nc_admm_agent` per node of `scenario.graph`, addressed `robot_<i>`."""
    names = agent_names(scenario.graph.n)
    return [nc_admm_agent(scenario, i, names, settings) for i in range(scenario.graph.n)]


def run_nc_admm(scenario: Scenario, *, rho: float = 1.0, stop: Literal["residual", "feasible"] = "residual",
                eps: float = 1e-3, feasibility_tol: float = 1e-6, max_iterations: int = 500,
                weighting: Literal["degree", "thesis"] = "degree", active_set: bool = True,
                relaxation: float = 1.0, network: NetworkModel | None = None) -> FleetResult:
    """Run Alg. 1 in process; `details` holds ||r^k|| ("residuals") and ||s^k|| ("feasibility") per iteration
    and how many local solves were exact active-set re-solves ("exact_solves").
    The checks of `nc_admm_agent` apply before any solve (`InfeasibleProblem` for provably infeasible data)."""
    settings = NcAdmmSettings(rho=rho, stop=stop, eps=eps, feasibility_tol=feasibility_tol,
                              max_iterations=max_iterations, weighting=weighting, active_set=active_set,
                              relaxation=relaxation)
    agents = nc_admm_agents(scenario, settings)
    report = asyncio.run(run_in_process(agents, topology=scenario.graph, network=network, problem_id="nc_admm",
                                        addresses=agent_names(len(agents))))
    parts = [o.details for o in report.results.values() if isinstance(o, AgentOutcome)]
    done = min((len(p["residual_parts"]) for p in parts), default=0)   # iterations every agent completed
    details = {
        "residuals": [math.sqrt(sum(p["residual_parts"][k] for p in parts)) for k in range(done)],
        "feasibility": [math.sqrt(sum(p["feasibility_parts"][k] for p in parts)) for k in range(done)],
        "stop": ", ".join(sorted({p["stop"] for p in parts})),
        "solution_iteration": max((p["solution_iteration"] for p in parts), default=0),
        "exact_solves": sum(p["exact_solves"] for p in parts)}
    return fleet_result("nc_admm", scenario.problem, report, rounds=max(a.iteration for a in agents),
                        details=details)
