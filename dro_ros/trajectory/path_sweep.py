"""The CDS path sweep (CDS-PS, thesis Sec. 3.2, Alg. 3) with the relay of fixed solutions (Sec. 4.2).

Along a path v_0, ..., v_s whose nodes form a connected dominating set, the root solves P_{v_0} (3.5)
over S_{v_0}; each later path node v_k waits for the solutions of F_{k-1} (3.8) and solves (3.11) over
S̄_{v_k} = N[v_k] \\ F_{k-1} with F_{k-1} fixed, coupled to every fixed agent. A path node sends each
node off the path whose parent it is (eq. 3.12) its solution, and its new solutions to v_{k+1}. Relay
(eq. 4.5): a path node passes every solution it receives on to v_{k+1} at once, before its own solve,
so each message forward carries only the newly determined solutions. A path node whose S̄_{v_k} is empty
(a connector: every neighbour was decided before its turn) solves nothing and only relays.

Warm start (`Scenario.guess`, a receding horizon's previous plans shifted): every stage starts from the
guess, and the agents later in the sweep enter stage k at their guessed trajectories, as parameters like
F_{k-1}. Stage k thus keeps clear of the plans the later agents may keep, and when the guess is jointly
feasible (a shifted plan ending at rest is), each later agent's own guess stays feasible for its stage:
the sweep cannot box a later agent in.

What a path node can solve before the fixed solutions arrive it solves at start-up, in parallel with
the earlier stages (`sweep.StageSolver.prepare`); the stage itself is solved with EAS (Alg. 4) when `eas`
settings are given, else in full from the convex relaxation.

Speculation (with EAS; a latency-hiding protocol in the spirit of Ch. 4): after every EAS round that is
not its last and whose point violates Q by at most epsilon_bar, a path node sends its free agents'
provisional solutions to v_{k+1} (`Provisional`). v_{k+1}, idle until the final ones arrive, solves its
stage with them (`StageSolver.speculate`) and resumes from that point and working set when the final
solutions come. Every provisional message received before the final solve is used, in order, so the
result does not depend on timing. A warm-started sweep does not speculate: its stages start from the
shifted plans, which are already close to the final ones, so a speculative solve would only delay the
final solve on the node's processor.
"""
from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np

from dro_ros.core.carrier import Carrier, MessageMeta
from dro_ros.core.codec import FloatArray, IntArray, wire_message
from dro_ros.core.simple import NetworkModel
from dro_ros.graph.cds import SweepPath, find_path_cds, sweep_path
from dro_ros.trajectory.eas import EasParameters
from dro_ros.trajectory.outcome import FleetResult, agent_names
from dro_ros.trajectory.problem import FleetProblem
from dro_ros.trajectory.scenarios import Scenario, require_agent
from dro_ros.trajectory.stage import SolveResult
from dro_ros.trajectory.sweep import Solutions, StageSolver, SweepAgent, require_clock, run_sweep


@wire_message("cds_sweep")
@dataclass
class Provisional:
    """Solutions of the sender's free `agents` after an EAS round that is not its last (`inputs[k]`, (H, m));
    `ready` is the sender's critical-path clock at the end of that round."""

    stage: int
    agents: IntArray
    inputs: FloatArray
    ready: float


class PathSweepAgent(SweepAgent):
    """Agent i of Alg. 3 on the sweep path `sweep`: a path node v_k solves stage k, any other node only
    takes its solution from its parent. With EAS, path nodes speculate (module docstring)."""

    def __init__(self, problem: FleetProblem, sweep: SweepPath, me: int, names: Sequence[str],
                 eas: EasParameters | None = None, speculate: bool = True, guess: np.ndarray | None = None) -> None:
        k = sweep.position[me]
        on_path = k is not None
        solver = None
        if on_path and sweep.assigned[k]:   # a connector path node, N[v_k] within F_{k-1}, only relays
            fixed, guessed, presumed = list(sweep.fixed_before[k]), {}, {}
            if guess is not None:   # a warm start: the agents later in the sweep enter at their guessed plans
                later = [b for b in range(problem.n_agents) if b not in fixed and b not in sweep.assigned[k]]
                guessed = {b: problem.rollout(guess[b], problem.initial[b]) for b in later}
                presumed = {b: problem.rollout(guess[b], problem.initial[b]) for b in fixed}
                fixed += later
            solver = StageSolver(problem, sweep.assigned[k], fixed, eas, warm_start=guess is not None and eas is not None,
                                 guessed=guessed, presumed=presumed)
        needs = set(sweep.fixed_before[k]) if on_path else {me}
        super().__init__(problem, me, names, parent=sweep.parent[me], needs=needs, solver=solver, stage=k, guess=guess)
        self.next = sweep.path[k + 1] if on_path and k + 1 < len(sweep.path) else None
        self.dependants = tuple(j for j in sweep.assigned[k] if sweep.position[j] is None) if on_path else ()  # 3.12
        self.speculate = speculate and eas is not None and guess is None and solver is not None
        self._provisional: dict[int, np.ndarray] = {}
        self._queued: list[tuple[dict[int, np.ndarray], float]] = []   # (fixed inputs, sender's clock)
        self._speculating: asyncio.Task | None = None
        self._speculated_until = 0.0    # this agent's critical-path clock at the end of its speculations

    async def on_start(self, carrier: Carrier) -> None:
        await super().on_start(carrier)
        self._speculate_soon(carrier)

    async def on_exchange_message(self, carrier: Carrier, content: Any, meta: MessageMeta) -> None:
        if not isinstance(content, Provisional):
            await super().on_exchange_message(carrier, content, meta)
            return
        self._require_parent(meta, "provisional solutions")
        require_clock(content.ready, meta)
        agents = self._checked(content.agents, content.inputs, self.problem.horizon, "provisional inputs", meta)
        self._provisional.update(zip(agents, content.inputs))
        if self.speculate and not self._acted and self.needs <= self.known.keys() | self._provisional.keys():
            fixed = {b: self.known[b] if b in self.known else self._provisional[b] for b in self.needs}
            self._queued.append((fixed, content.ready))
            self._speculate_soon(carrier)

    def _speculate_soon(self, carrier: Carrier) -> None:
        """Start working through the queued speculations, unless busy, not started, or already acting."""
        idle = self._speculating is None or self._speculating.done()
        if idle and self._started and not self._acted and self._queued and self.failure is None:
            self._speculating = asyncio.ensure_future(self._speculate(carrier))

    async def _speculate(self, carrier: Carrier) -> None:
        """Solve the stage with each queued provisional set in turn. The simulation may run a speculation
        after the final solutions were delivered, so its place on this agent's processor is kept on its own
        clock: it starts when the start-up work and the previous speculation are done and its provisional
        solutions have arrived (`_speculated_until`), and the final solve starts after it."""
        while self._queued:
            inputs, ready = self._queued.pop(0)
            fixed = {b: self.problem.rollout(u, self.problem.initial[b]) for b, u in inputs.items()}
            _, seconds = await self.clock.measure(carrier, self.solver.speculate, fixed)
            begins = max(self._warm_start_seconds, self._speculated_until, ready)
            self._speculated_until = begins + seconds
            self.speculations += 1
            self.speculative_seconds += seconds

    def _provisional_sender(self, carrier: Carrier) -> Callable[[SolveResult, float, float], None] | None:
        """The EAS progress callback that sends provisional solutions to v_{k+1} (it runs in the solver's
        thread, so it hands the message to the event loop)."""
        if self.next is None or not self.speculate:
            return None
        loop, started, limit = asyncio.get_running_loop(), self.clock.ready, self.solver.eas.epsilon_bar

        def progress(result: SolveResult, psi: float, seconds: float) -> None:
            if result.ok and psi <= limit:
                loop.call_soon_threadsafe(self._send_provisional, carrier, result.inputs, started + seconds)
        return progress

    def _send_provisional(self, carrier: Carrier, inputs: dict[int, np.ndarray], ready: float) -> None:
        agents = sorted(inputs)
        carrier.send_to_other(Provisional(stage=self.stage, agents=np.array(agents, dtype=np.int64),
                                          inputs=np.stack([inputs[a] for a in agents]), ready=ready),
                              self.names[self.next])

    def _relay(self, carrier: Carrier, content: Solutions) -> None:
        if self.next is not None:   # eq. 4.5: forward at once, before this node's solve
            self.send(carrier, self.next, [int(a) for a in content.agents], content.stage)

    async def _act(self, carrier: Carrier) -> None:
        if self.solver is not None:
            if self._speculating is not None:
                await self._speculating
            await self._speculate(carrier)   # what arrived while it was not started
            self.clock.heard(self._speculated_until)
            solution = await self.solve_stage(carrier, self._provisional_sender(carrier))
            if solution is None:
                return
            for j in self.dependants:
                self.send(carrier, j, [j], self.stage)
            if self.next is not None:
                self.send(carrier, self.next, sorted(solution), self.stage)
        self.done = True


def sweep_of(scenario: Scenario, path: Sequence[int] | None = None) -> SweepPath:
    """The sweep along `path` (default: `scenario.path`, else the shortest dominating path, searched);
    `TopologyError` if the graph is disconnected or the path is not a dominating path of it (or none exists)."""
    chosen = scenario.path if path is None else path
    return find_path_cds(scenario.graph) if chosen is None else sweep_path(scenario.graph, chosen)


def path_sweep_agent(scenario: Scenario, index: int, names: Sequence[str], *, path: Sequence[int] | None = None,
                     eas: EasParameters | None = None, speculate: bool = True) -> PathSweepAgent:
    """Agent `index` of CDS-PS on `scenario` along `path` (`sweep_of`), its peers addressed by `names`
    (one per agent); with `eas`, path nodes speculate unless `speculate` is False. The registered factory
    (`dro_ros.spec.registry`): the scenario is checked (`scenarios.require_agent`) before anything is built."""
    require_agent(scenario, index, names)
    return PathSweepAgent(scenario.problem, sweep_of(scenario, path), index, names, eas, speculate, scenario.guess)


def run_path_sweep(scenario: Scenario, *, path: Sequence[int] | None = None, eas: EasParameters | None = None,
                   speculate: bool = True, network: NetworkModel | None = None) -> FleetResult:
    """CDS-PS on `scenario` in process, one `path_sweep_agent` per robot; the path is searched once.

    Checked before any solve: `TopologyError` if the graph has not one node per agent, is disconnected, or
    the path is not a dominating path of it (or none exists); `InfeasibleProblem` for provably infeasible data.
    """
    names = agent_names(scenario.graph.n)
    sweep = sweep_of(scenario, path)
    agents = [path_sweep_agent(scenario, i, names, path=sweep.path, eas=eas, speculate=speculate)
              for i in range(scenario.graph.n)]
    return run_sweep("cds-ps", scenario.problem, scenario.graph, agents, len(sweep.path), network,
                     {"path": sweep.path})
