"""What the two CDS sweeps share (thesis Alg. 2 and 3): the message, the stage solver, the agent's
bookkeeping and the runner.

A fixed solution x_j* travels as agent j's inputs u_j(t), t = 0..H-1 (`Solutions`); every agent holds
the same problem data, so a receiver rebuilds the states by the dynamics (5.5) (`FleetProblem.rollout`). A message
also carries the stage that determined it and the sender's critical-path clock (`outcome.CriticalPath`).

A stage's problem is built once per process and structure (`StageSolver`, `trajectory.stage_cache`: a
receding horizon's windows reuse it), and the work that does not need the fixed solutions is
done at start-up, in parallel with the earlier stages (`StageSolver.prepare`):

* always, building the stage's CasADi functions and, without EAS, its Ipopt solver: a node that waits
  for its parent builds while it waits, off the critical path;
* without EAS, as the centralized baseline is solved: the convex relaxation without collision rows
  (which involves no fixed agent), then, once the fixed solutions are known, the full stage from that
  point with Ipopt's warm-start settings;
* with EAS (Alg. 4): a pre-solve of the stage without the rows that involve fixed agents, from rest;
  once the fixed solutions are known, EAS resumes from that point and working set, and only has to
  add the rows coupling to the fixed agents;
* with a warm start (a receding horizon's previous plans shifted), the stage is solved from the warm
  start once the fixed solutions are known, its rows near-active there in EAS's first working set. A
  stage that waits for fixed agents first learns the rows that set misses: one solve with the awaited
  agents at their previous plans (`presumed`) gives EAS's second working set, whose solver it builds
  (`StageSolver._expected_working_set`); the stage's solve then starts from that set and mostly needs one
  round. The start stays the warm start: a pre-solved point would only move it away from plans that
  already respect the fixed agents' previous plans.

A stage that ends in any status but SOLVED stops the agent with `failure = "stage k at agent i: <status>"`;
the agents downstream keep waiting for their parent (`waiting_for`), so an in-process run ends quiescent.
"""
from __future__ import annotations

import asyncio
import math
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np

from dro_ros.core.carrier import Carrier, MessageMeta, MessageRejected
from dro_ros.core.codec import FloatArray, IntArray, wire_message
from dro_ros.core.simple import NetworkModel, run_in_process
from dro_ros.core.topology import Topology
from dro_ros.trajectory.eas import EasParameters, EasReport, near_active, select, solve_eas
from dro_ros.trajectory.prediction import PredictionError, predict
from dro_ros.trajectory.outcome import AgentOutcome, CriticalPath, FleetResult, agent_names, fleet_result
from dro_ros.trajectory.problem import FleetProblem
from dro_ros.trajectory.stage import EAS_IPOPT, PREDICTED_IPOPT, WARM_IPOPT, WINDOW_IPOPT, SolveResult
from dro_ros.trajectory.stage_cache import shared_stage


@wire_message("cds_sweep")
@dataclass
class Solutions:
    """Fixed solutions determined at sweep stage `stage`: `inputs[k]` (H, m) are u_j(t) of j = `agents[k]`;
    `ready` is the sender's critical-path clock in seconds. A branch sweep with prediction also passes
    down the coarse prediction of the receiver's descendants (`trajectory.prediction`); else these are empty."""

    stage: int
    agents: IntArray
    inputs: FloatArray
    ready: float
    predicted_agents: IntArray    # CDS-BS with prediction: coarse inputs (k, H / factor, m) of these agents
    predicted_inputs: FloatArray


@dataclass(frozen=True)
class Arrival:
    """A `Solutions` message as its receiver logged it, in order of arrival."""

    sender: int
    stage: int
    agents: tuple[int, ...]
    ready: float


@dataclass
class StageRow:
    """One stage solve: the Table 5.2 columns (n_k, |Q|, |W|, |A| with EAS) and its critical-path timing.

    `started` is the solver's critical-path clock when the stage solve began; `seconds` its CPU time, and
    `warm_start_seconds` that of its start-up solve (`StageSolver.prepare`; 0 when there is none), and
    `speculative_seconds` that of its solves with provisional solutions (`path_sweep`; 0 when none).
    """

    stage: int
    agent: int
    free: tuple[int, ...]
    fixed: tuple[int, ...]
    status: str
    started: float
    seconds: float
    warm_start_seconds: float
    iterations: int
    n_constraints: int
    eas_rounds: int | None = None
    n_working: int | None = None
    n_active: int | None = None
    speculations: int = 0
    speculative_seconds: float = 0.0


class StageSolver:
    """One sweep stage (3.5, 3.7 or 3.11), built once: `free` agents optimized, `fixed` ones parameters."""

    def __init__(self, problem: FleetProblem, free: Sequence[int], fixed: Sequence[int],
                 eas: EasParameters | None = None, *, warm_start: bool = False,
                 guessed: dict[int, np.ndarray] | None = None, presumed: dict[int, np.ndarray] | None = None) -> None:
        """`warm_start`: `solve` will be given a starting point, Ipopt warm-started from it: with EAS, a
        receding horizon's previous plans shifted (`WINDOW_IPOPT`); without, a prediction
        (`PREDICTED_IPOPT`). `guessed`: states (H+1, 2m) of fixed agents whose solutions are not awaited but
        known in advance (a receding horizon's previous plans of the agents later in the sweep). `presumed`:
        states of the awaited fixed agents to expect (their previous plans), which a warm-started EAS stage
        pre-solves with to learn its working set (`prepare`)."""
        self.eas = eas
        self.guessed = dict(guessed or {})
        self.presumed = dict(presumed or {})
        self.stage = shared_stage(problem, free, fixed,
                                  ipopt=None if eas is None else WINDOW_IPOPT if warm_start else EAS_IPOPT)
        self._convex = self.stage.convex_mask()
        self.nonconvex = not self._convex.all()
        warm = eas is None and (self.nonconvex or warm_start)
        options = PREDICTED_IPOPT if warm_start else WARM_IPOPT
        self._warm = shared_stage(problem, free, fixed, ipopt=options) if warm else None
        self._start: np.ndarray | None = None
        self._working: np.ndarray | None = None
        self._warm_started = False

    def prepare(self, start: dict[int, np.ndarray] | None = None) -> SolveResult | None:
        """The start-up work of the module docstring: build the solver(s) the stage needs and, for a
        nonconvex stage or an EAS stage with fixed agents, the solve kept as the starting point of
        `solve` (returned; None when there is none). `start` (the free agents' inputs, e.g. a receding
        horizon's previous plans shifted) replaces rest as the starting point and is kept as is: no
        relaxation, and with EAS no pre-solve but the one that learns the working set when the awaited
        agents' plans are `presumed` (module docstring)."""
        problem = self.stage.problem
        placeholder = self.stage.parameters(   # the awaited fixed agents enter no row solved here
            fixed={b: self.guessed.get(b, np.zeros((problem.horizon, problem.dim))) for b in self.stage.fixed})
        guess = None if start is None else self.stage.guess(placeholder, start)
        self._warm_started = guess is not None
        if self.eas is None:
            (self._warm or self.stage).solver()
            if not self.nonconvex or guess is not None:
                self._start = guess
                return None
            relaxed = self.stage.solve(placeholder, mask=self._convex)
        else:
            allowed = self._without_fixed()
            awaited = set(self.stage.fixed) - set(self.guessed)
            if guess is not None and awaited and awaited <= self.presumed.keys():
                self._working = self._expected_working_set(guess)
                self._start = guess
                return None
            working = None if guess is None else near_active(self.stage, guess, placeholder) & allowed
            if guess is not None or not awaited:   # nothing to pre-solve
                self.stage.base_functions()
                self._start, self._working = guess, working
                return None
            relaxed, report = solve_eas(self.stage, placeholder, guess, self.eas, allowed=allowed, working=working)
            self._working = report.working
        self._start = relaxed.primal
        return relaxed

    def solve(self, fixed: dict[int, np.ndarray], start: dict[int, np.ndarray] | None = None,
              progress: Callable[[SolveResult, float, float], None] | None = None
              ) -> tuple[SolveResult, EasReport | None]:
        """Solve the stage with the fixed agents' states (H+1, 2m), from the free agents' inputs `start`
        if given, else from the prepared point if any; `progress` follows the EAS rounds (`solve_eas`)."""
        parameters = self.stage.parameters(fixed={**self.guessed, **fixed})
        guess = self._start if start is None else self.stage.guess(parameters, start)
        if self.eas is not None:
            working = self._working
            if self._warm_started and guess is not None:   # the rows to the fixed agents near-active from the start
                near = near_active(self.stage, guess, parameters)
                working = near if working is None else near | working
            return solve_eas(self.stage, parameters, guess, self.eas, working=working, progress=progress)
        return (self._warm or self.stage).solve(parameters, guess), None

    def speculate(self, fixed: dict[int, np.ndarray]) -> SolveResult:
        """Solve the EAS stage with provisional fixed states and, if that succeeds, keep its point and working
        set as the starting point of the next solve."""
        result, report = solve_eas(self.stage, self.stage.parameters(fixed={**self.guessed, **fixed}), self._start, self.eas,
                                   working=self._working)
        if result.ok:
            self._start, self._working = result.primal, report.working
        return result

    def _expected_working_set(self, guess: np.ndarray) -> np.ndarray:
        """EAS's second working set W^1 (eq. 3.14) with the awaited agents at their `presumed` plans: W^0
        (`near_active` at the warm start `guess`) and the rows violated where P_{W^0} is solved. Those are
        the rows a window's first round misses, where the robots' new plans reach further than the
        shifted ones (into the speed limit, past obstacles); found while the node waits, with the solver
        for W^1 built. The start stays the warm start: a pre-solved point would only move it away from plans
        that respect the others' previous plans."""
        parameters = self.stage.parameters(fixed={**self.guessed, **self.presumed})
        first = near_active(self.stage, guess, parameters)
        point = self.stage.solve(parameters, guess, mask=first, max_iter=self.eas.n_iter).primal
        working = first | select(self.stage.inequality_values(point, parameters), self.eas.epsilon_bar,
                                 self.eas.delta_bar)
        self.stage.solver(working, self.eas.n_iter)
        return working

    def _without_fixed(self) -> np.ndarray:
        """Rows of Q that involve no awaited fixed agent."""
        allowed = np.ones(self.stage.n_inequalities, dtype=bool)
        fixed = set(self.stage.fixed) - set(self.guessed)
        for family in self.stage.families:
            if family.name == "coupling":
                pairs = np.array([i in fixed or j in fixed for i, j in self.stage.pairs])
                allowed[family.offset:family.offset + family.rows] = ~pairs[family.labels[:, 0]]
        return allowed


class SweepAgent:
    """An agent of a sweep: it learns fixed solutions from its `parent` only, and acts once it knows those
    of the agents in `needs` (`_act`, per algorithm). `solver` is its stage problem and `stage` the sweep
    stage it solves at, or None for an agent that never solves."""

    def __init__(self, problem: FleetProblem, me: int, names: Sequence[str], *, parent: int | None,
                 needs: set[int], solver: StageSolver | None, stage: int | None,
                 prediction: int | None = None, guess: np.ndarray | None = None) -> None:
        """`guess` (N, H, m): every agent's inputs to start from (`Scenario.guess`), or None (rest)."""
        self.problem, self.me, self.names = problem, me, list(names)
        self.parent, self.needs, self.solver, self.stage = parent, frozenset(needs), solver, stage
        self.prediction, self.guess = prediction, guess
        self.known: dict[int, np.ndarray] = {}
        self.predicted: dict[int, np.ndarray] = {}   # coarse inputs (H / prediction, m) by agent
        self.clock = CriticalPath()
        self.arrivals: list[Arrival] = []
        self.rows: list[StageRow] = []
        self.failure: str | None = None
        self.done = False
        self._started = self._acted = False
        self._warm_start_seconds = 0.0
        self.speculations, self.speculative_seconds = 0, 0.0

    # --- carrier hooks ---------------------------------------------------------------------------
    async def on_start(self, carrier: Carrier) -> None:
        """Do the stage's start-up work now, before the fixed solutions arrive (`StageSolver.prepare`)."""
        if self.solver is not None:
            try:
                relaxed, self._warm_start_seconds = await self.clock.compute(carrier, self._start_up)
            except PredictionError as error:
                self._fail(str(error))
                return
            if relaxed is not None and not relaxed.ok:
                self._fail(f"{relaxed.status.value} (start-up relaxation: {relaxed.return_status})")
                return
        self._started = True
        await self._advance(carrier)

    def _start_up(self) -> SolveResult | None:
        """The root of a sweep with prediction predicts the fleet; every stage then prepares."""
        if self.prediction is not None and self.parent is None:
            self.predicted = dict(enumerate(predict(self.problem, self.prediction)))
        start = None if self.guess is None else {a: self.guess[a] for a in self.solver.stage.free}
        return self.solver.prepare(start)

    async def on_exchange_message(self, carrier: Carrier, content: Any, meta: MessageMeta) -> None:
        if not isinstance(content, Solutions):
            raise MessageRejected(f"agent {self.me}: unexpected message {meta.type} from {meta.sender}")
        self._accept(content, meta)
        if self.failure is None:
            self._relay(carrier, content)
            await self._advance(carrier)

    # --- shared steps ----------------------------------------------------------------------------
    def _accept(self, content: Solutions, meta: MessageMeta) -> None:
        """Check a message from the parent and store its solutions (and predictions)."""
        self._require_parent(meta, "solutions")
        require_clock(content.ready, meta)
        agents = self._checked(content.agents, content.inputs, self.problem.horizon, "inputs", meta)
        predicted = self._checked(content.predicted_agents, content.predicted_inputs,
                                  self.problem.horizon // (self.prediction or 1), "predicted inputs", meta)
        self.known.update(zip(agents, content.inputs))
        self.predicted.update(zip(predicted, content.predicted_inputs))
        self.clock.heard(content.ready)
        self.arrivals.append(Arrival(self.parent, content.stage, tuple(agents), content.ready))

    def _require_parent(self, meta: MessageMeta, what: str) -> None:
        if self.parent is None or meta.sender != self.names[self.parent]:
            raise MessageRejected(f"agent {self.me}: {what} from {meta.sender}, which is not its parent")

    def _checked(self, agents: np.ndarray, inputs: np.ndarray, steps: int, what: str, meta: MessageMeta) -> list[int]:
        """The agents of a message's (agents, inputs) pair, after checking that they exist and that the inputs
        are finite with shape (len(agents), steps, m); an empty pair passes."""
        if agents.ndim > 1:
            raise MessageRejected(f"agent {self.me}: {meta.sender} sent {what} for agents of shape {agents.shape}")
        listed = [int(a) for a in np.atleast_1d(agents)]
        if not listed:
            return listed
        if not all(0 <= a < self.problem.n_agents for a in listed):
            raise MessageRejected(f"agent {self.me}: {meta.sender} sent {what} for unknown agents {listed}")
        shape = (len(listed), steps, self.problem.dim)
        if inputs.shape != shape or not np.all(np.isfinite(inputs)):
            raise MessageRejected(f"agent {self.me}: {what} from {meta.sender} have shape {inputs.shape}, "
                                  f"expected finite values of shape {shape}")
        return listed

    def _relay(self, carrier: Carrier, content: Solutions) -> None:
        """Hook: pass a received message on (the path sweep's relay, eq. 4.5)."""

    async def _advance(self, carrier: Carrier) -> None:
        if self._started and not self._acted and self.failure is None and self.needs <= self.known.keys():
            self._acted = True
            await self._act(carrier)

    async def _act(self, carrier: Carrier) -> None:
        raise NotImplementedError

    def send(self, carrier: Carrier, receiver: int, agents: Sequence[int], stage: int,
             predicted: Sequence[int] = ()) -> None:
        """Send the known solutions of `agents` (and the predictions of `predicted`), stamped with this
        agent's clock."""
        inputs = np.stack([self.known[a] for a in agents])
        coarse = np.stack([self.predicted[a] for a in predicted]) if predicted else np.zeros((0, 0, self.problem.dim))
        carrier.send_to_other(Solutions(stage=stage, agents=np.array(agents, dtype=np.int64), inputs=inputs,
                                        ready=self.clock.ready, predicted_agents=np.array(predicted, dtype=np.int64),
                                        predicted_inputs=coarse), self.names[receiver])

    async def solve_stage(self, carrier: Carrier, progress: Callable[[SolveResult, float, float], None] | None = None
                          ) -> dict[int, np.ndarray] | None:
        """Solve this agent's stage with the fixed solutions it holds; None (and a failure) unless SOLVED.
        `progress` follows the EAS rounds (`StageSolver.solve`)."""
        stage = self.solver.stage
        fixed = {b: self.problem.rollout(self._inputs(b), self.problem.initial[b]) for b in stage.fixed
                 if b not in self.solver.guessed}
        started = self.clock.ready
        start = {a: self._inputs(a) for a in stage.free} if self.prediction is not None else None
        (result, eas), seconds = await self.clock.compute(carrier, self.solver.solve, fixed, start, progress)
        table = {} if eas is None else dict(eas_rounds=eas.rounds, n_working=eas.n_working, n_active=eas.n_active)
        self.rows.append(StageRow(
            stage=self.stage, agent=self.me, free=stage.free, fixed=stage.fixed, status=result.status.value,
            started=started, seconds=seconds, warm_start_seconds=self._warm_start_seconds,
            iterations=result.iterations if eas is None else eas.ipopt_iterations,
            n_constraints=stage.n_inequalities, speculations=self.speculations,
            speculative_seconds=self.speculative_seconds, **table))
        if not result.ok:
            violated = stage.most_violated(result.primal, stage.parameters(fixed={**self.solver.guessed, **fixed}))
            self._fail(f"{result.status.value} ({result.return_status})" + (f"; {violated}" if violated else ""))
            return None
        self.known.update(result.inputs)
        return result.inputs

    def _inputs(self, agent: int) -> np.ndarray:
        """u_agent(t), t = 0..H-1: its fixed solution, else its prediction held for `prediction` steps."""
        if agent in self.known:
            return self.known[agent]
        return np.repeat(self.predicted[agent], self.prediction, axis=0)

    def _fail(self, reason: str) -> None:
        self.failure = f"stage {self.stage} at agent {self.me}: {reason}"

    # --- results ---------------------------------------------------------------------------------
    @property
    def finished(self) -> bool:
        return self.done or self.failure is not None

    def waiting_for(self) -> list[str]:
        if self.finished or self.parent is None or self.needs <= self.known.keys():
            return []
        return [self.names[self.parent]]

    def result(self) -> AgentOutcome:
        return AgentOutcome(agent=self.me, inputs=self.known.get(self.me), critical_path=self.clock.ready,
                            compute=self.clock.spent, solves=len(self.rows), failure=self.failure,
                            details={"stages": self.rows, "arrivals": self.arrivals})


def require_clock(ready: float, meta: MessageMeta) -> None:
    """A received critical-path clock (`ready`, seconds) is finite and >= 0."""
    if not (math.isfinite(ready) and ready >= 0):
        raise MessageRejected(f"ready: {meta.sender} sent the clock {ready}, expected finite seconds >= 0")


def run_sweep(algorithm: str, problem: FleetProblem, graph: Topology, agents: list[SweepAgent], rounds: int,
              network: NetworkModel | None, details: dict[str, Any]) -> FleetResult:
    """Run sweep agents in process (addresses `agent_names`) and check the result. `details` gains the stage
    rows in stage order, each agent's arrivals, and the unfinished agents with whom they wait for.
    The agents come from the algorithm's factory, which checked the scenario."""
    report = asyncio.run(run_in_process(agents, topology=graph, network=network, addresses=agent_names(graph.n),
                                        problem_id=algorithm))
    outcomes = [o for o in report.results.values() if isinstance(o, AgentOutcome)]
    rows = sorted((row for o in outcomes for row in o.details["stages"]), key=lambda row: (row.stage, row.agent))
    arrivals = {o.agent: o.details["arrivals"] for o in outcomes}
    return fleet_result(algorithm, problem, report, rounds,
                        details={**details, "stages": rows, "arrivals": arrivals, "unfinished": report.unfinished})
