"""The CDS path sweep (CDS-PS, thesis Sec. 3.2, Alg. 3) with the relay of fixed solutions (Sec. 4.2).

Along a path v_0, ..., v_s whose nodes form a connected dominating set, the root solves P_{v_0} (3.5)
over S_{v_0}; each later path node v_k waits for the solutions of F_{k-1} (3.8) and solves (3.11) over
S̄_{v_k} = N[v_k] \\ F_{k-1} with F_{k-1} fixed, coupled to every fixed agent. A path node sends each
node off the path whose parent it is (eq. 3.12) its solution, and its new solutions to v_{k+1}. Relay
(eq. 4.5): a path node passes every solution it receives on to v_{k+1} at once, before its own solve,
so each message forward carries only the newly determined solutions.

What a path node can solve before the fixed solutions arrive it solves at start-up, in parallel with
the earlier stages (`sweep.StageSolver.prepare`); the stage itself is solved with EAS (Alg. 4) when `eas`
settings are given, else in full from the convex relaxation.
"""
from __future__ import annotations

from typing import Sequence

from dro_ros.core.carrier import Carrier
from dro_ros.core.simple import NetworkModel
from dro_ros.graph.cds import SweepPath, find_path_cds, sweep_path
from dro_ros.trajectory.eas import EasParameters
from dro_ros.trajectory.outcome import FleetResult, agent_names
from dro_ros.trajectory.problem import FleetProblem
from dro_ros.trajectory.scenarios import Scenario
from dro_ros.trajectory.sweep import (Solutions, StageSolver, SweepAgent,
                                               require_fleet_graph, run_sweep)


class PathSweepAgent(SweepAgent):
    """Agent i of Alg. 3 on the sweep path `sweep`: a path node v_k solves stage k, any other node only
    takes its solution from its parent."""

    def __init__(self, problem: FleetProblem, sweep: SweepPath, me: int, names: Sequence[str],
                 eas: EasParameters | None = None) -> None:
        k = sweep.position[me]
        on_path = k is not None
        solver = StageSolver(problem, sweep.assigned[k], sweep.fixed_before[k], eas) if on_path else None
        needs = set(sweep.fixed_before[k]) if on_path else {me}
        super().__init__(problem, me, names, parent=sweep.parent[me], needs=needs, solver=solver, stage=k)
        self.next = sweep.path[k + 1] if on_path and k + 1 < len(sweep.path) else None
        self.dependants = tuple(j for j in sweep.assigned[k] if sweep.position[j] is None) if on_path else ()  # 3.12

    def _relay(self, carrier: Carrier, content: Solutions) -> None:
        if self.next is not None:   # eq. 4.5: forward at once, before this node's solve
            self.send(carrier, self.next, [int(a) for a in content.agents], content.stage)

    async def _act(self, carrier: Carrier) -> None:
        if self.solver is not None:
            solution = await self.solve_stage(carrier)
            if solution is None:
                return
            for j in self.dependants:
                self.send(carrier, j, [j], self.stage)
            if self.next is not None:
                self.send(carrier, self.next, sorted(solution), self.stage)
        self.done = True


def run_path_sweep(scenario: Scenario, *, path: Sequence[int] | None = None, eas: EasParameters | None = None,
                   network: NetworkModel | None = None) -> FleetResult:
    """CDS-PS on `scenario` along `path` (default: `scenario.path`, else the shortest dominating path).

    The graph and path are checked before any solve: `TopologyError` if the graph has not one node per
    agent, is disconnected, or the path is not a dominating path of it (or none exists).
    """
    problem, graph = scenario.problem, scenario.graph
    require_fleet_graph(problem, graph)
    chosen = scenario.path if path is None else path
    sweep = find_path_cds(graph) if chosen is None else sweep_path(graph, chosen)
    names = agent_names(graph.n)
    agents = [PathSweepAgent(problem, sweep, i, names, eas) for i in range(graph.n)]
    return run_sweep("cds-ps", problem, graph, agents, len(sweep.path), network, {"path": sweep.path})
