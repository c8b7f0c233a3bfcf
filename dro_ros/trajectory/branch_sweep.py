"""The CDS branch sweep (CDS-BS, thesis Sec. 3.1, Alg. 2) with the early-forward protocol (Sec. 4.2).

On a tree rooted at v_0 (a centre by default), the root solves its neighbourhood problem P_{v_0} (3.5)
over S_{v_0} and sends each neighbour j the solutions x_{v_0}* and x_{j v_0}*. A node i != v_0 waits for
x_{p_i}* and x_{i p_i}* from its parent p_i; if it has children S̄_i = N_i \\ {p_i}, it solves the reduced
problem (3.7) over S̄_i with x_i* and x_{p_i}* fixed and sends each child j its x_{ji}*. Early forward
(eq. 4.3): x_i* does not change in i's solve, so i passes it to its children *before* solving, and only
x_{ji}* travels after the solve. Leaves solve nothing.

The sweep needs neighbourhood coupling on a tree; each node at depth d solves at stage d, so there are as
many stages as the tree's height from the root (its radius when the root is a centre).

With `prediction = k`, the root first solves the fleet problem on a k times coarser grid and the
prediction travels down the tree with the solutions (`trajectory.prediction`); each stage also keeps
its free agents coupled to the predicted trajectories of the next generation, fixed. The sweep then
refines a feasible global plan instead of deciding greedily, and its objective is at most the
prediction's.
"""
from __future__ import annotations

from typing import Sequence

from dro_ros.core.carrier import Carrier
from dro_ros.core.simple import NetworkModel
from dro_ros.graph.trees import RootedTree, root_tree
from dro_ros.trajectory.outcome import FleetResult, agent_names
from dro_ros.trajectory.prediction import coarse_problem, descendants, next_generation
from dro_ros.trajectory.problem import FleetProblem
from dro_ros.trajectory.scenarios import Scenario, require_agent
from dro_ros.trajectory.sweep import StageSolver, SweepAgent, run_sweep


class BranchSweepAgent(SweepAgent):
    """Agent i of Alg. 2 on the rooted tree `tree`."""

    def __init__(self, problem: FleetProblem, tree: RootedTree, me: int, names: Sequence[str],
                 prediction: int | None = None) -> None:
        parent, self.children = tree.parent[me], tree.children[me]
        if parent is None:
            free, fixed = tuple(sorted((me, *self.children))), ()            # P_{v_0} (3.5)
        else:
            free, fixed = tuple(self.children), (me, parent)                  # P_i (3.7)
        solver = None
        if free:
            predicted = next_generation(tree, free, fixed) if prediction else ()
            solver = StageSolver(problem, free, fixed + predicted, warm_start=bool(prediction))
        self.below = {c: descendants(tree, c) if prediction else [] for c in self.children}
        needs = set() if parent is None else {me, parent}
        super().__init__(problem, me, names, parent=parent, needs=needs, solver=solver, stage=tree.depth[me],
                         prediction=prediction)

    async def _act(self, carrier: Carrier) -> None:
        if self.solver is None:
            self.done = True   # a leaf: x_i* = x_{i p_i}*
            return
        root = self.parent is None
        if not root:
            for child in self.children:   # early forward (4.3): x_i* before the solve
                self.send(carrier, child, [self.me], self.stage - 1, self.below[child])
        if await self.solve_stage(carrier) is None:
            return
        for child in self.children:
            if root:
                self.send(carrier, child, [self.me, child], self.stage, self.below[child])
            else:
                self.send(carrier, child, [child], self.stage)
        self.done = True


def branch_sweep_agent(scenario: Scenario, index: int, names: Sequence[str], *, root: int | None = None,
                       prediction: int | None = None) -> BranchSweepAgent:
    """Agent `index` of CDS-BS on `scenario`, its peers addressed by `names` (one per agent), on the tree
    rooted at `root` (default: `scenario.root`, else a centre), refining a prediction `prediction` times
    coarser (default: `scenario.prediction`; None: plain Alg. 2). The registered factory
    (`dro_ros.spec.registry`); checked before anything is built: `scenarios.require_agent`, `TopologyError`
    if the graph is not a tree, `ValueError` if the factor does not divide H."""
    require_agent(scenario, index, names)
    tree = root_tree(scenario.graph, scenario.root if root is None else root)
    factor = scenario.prediction if prediction is None else prediction
    if factor is not None:
        coarse_problem(scenario.problem, factor)   # refuses a factor that does not divide H
    return BranchSweepAgent(scenario.problem, tree, index, names, factor)


def run_branch_sweep(scenario: Scenario, *, root: int | None = None, prediction: int | None = None,
                     network: NetworkModel | None = None) -> FleetResult:
    """CDS-BS on `scenario` in process, one `branch_sweep_agent` per robot (its checks apply before any
    solve)."""
    names = agent_names(scenario.graph.n)
    agents = [branch_sweep_agent(scenario, i, names, root=root, prediction=prediction)
              for i in range(scenario.graph.n)]
    tree = root_tree(scenario.graph, scenario.root if root is None else root)
    return run_sweep("cds-bs", scenario.problem, scenario.graph, agents, len(tree.stages), network,
                     {"root": tree.root, "prediction": agents[0].prediction})
