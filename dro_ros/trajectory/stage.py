"""One CasADi/Ipopt problem template for every problem the algorithms solve.

A `Stage` optimizes the trajectories of its *free* agents while the positions of its *fixed* agents are
parameters. From that one shape come

* the centralized NLP (5.8): every agent free, none fixed;
* the neighbourhood problem P_i (5.9) of NC-ADMM: S_i free, with the ADMM terms of (2.14);
* the reduced branch-sweep problem (3.7): the children S_i \\ {p_i} free, i and p_i fixed;
* the reduced path-sweep problem (3.11): S_{v_k} \\ F_{k-1} free, F_{k-1} fixed.

Decision variables per free agent a: u_a(t), t = 0..H-1 and x_a(t), t = 1..H, tied by the dynamics (5.5)
as equality constraints (sparse multiple shooting). Terminal equalities are variable bounds. The
inequalities Q of the stage are enumerated once (`Stage.families`) as flat rows c_j(x) <= 0:

    speed      ||v_a(t)||^2 - v_bar^2                 (a free, t = 1..H)
    input      ||u_a(t)||^2 - u_bar^2                 (a free, t = 0..H-1)
    terminal   ||s_a(H) - centre||^2 - radius^2       (a free with a ball terminal)
    coupling   r_min^2 - ||s_a(t) - s_b(t)||^2  or  r_min - (s_b(t) - s_a(t))   (coupled pairs with a free
               agent; b may be fixed, t = 1..H); with `separation: segments`, two rows per step that keep
               r_min between the samples too (`_segment_rows`)
    obstacle   (radius + clearance)^2 - ||s_a(t) - centre||^2 for a disc, clearance - c(s_a(t)) for a
               convex polygon with c the smooth lower bound of its distance (`obstacles`)   (a free, t = 1..H)
    traffic    separation^2 - ||s_a(t) - p_k(t)||^2 for each known trajectory p_k of `problem.traffic`
               (a free, t = 1..H)

so that an external active set method can solve with any subset W of Q (`Stage.solver(mask)`). The
symbolic graph, the all-constraints function and each solver are built once and re-solved with new
parameters (initial states, fixed trajectories, cost weights, goal targets, traffic paths, ADMM z, lambda,
rho) and warm starts. Terminal equalities are bounds, set per problem. So a stage built for one problem
serves every problem of the same structure (`Stage.structure`, e.g. the windows of a receding-horizon
mission): `Stage.bound_to` gives it the other problem's data and shares the compiled parts
(`trajectory.stage_cache`).
"""
from __future__ import annotations

import copy
import enum
import os
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field, fields
from typing import Any, Sequence

import casadi as ca
import numpy as np

from dro_ros.trajectory.obstacles import SMOOTHING, DiscObstacle, Obstacle
from dro_ros.trajectory.problem import BallTerminal, FixedTerminal, FleetProblem, GoalTerminal, Terminal

IPOPT_DEFAULTS: dict[str, Any] = {
    "print_level": 0, "sb": "yes", "tol": 1e-6, "constr_viol_tol": 1e-9, "max_iter": 3000,
    "linear_solver": "mumps", "min_refinement_steps": 0,
}
"""`min_refinement_steps = 0`: iterative refinement of a KKT solve only when its residual asks for it (Ipopt's
default refines at least once); same iterations and objectives, less time (README, formation benchmark)."""
WARM_IPOPT: dict[str, Any] = {"mu_init": 1e-5, "warm_start_init_point": "yes",
                              "warm_start_bound_push": 1e-6, "warm_start_mult_bound_push": 1e-6}
"""For a solve started from a nearby point (a converged relaxation, the previous ADMM iterate)."""
PREDICTED_IPOPT: dict[str, Any] = {**WARM_IPOPT, "mu_init": 1e-3}
"""For a branch-sweep stage started from the coarse prediction (`trajectory.prediction`): a feasible
point, but not one within the 1e-5 barrier of the optimum, so a larger mu_init takes fewer iterations."""
EAS_IPOPT: dict[str, Any] = {**WARM_IPOPT, "mu_init": 1e-4}
"""For the rounds of the external active set method, each started from the previous round's point and
multipliers (a round's point is further from the next round's optimum than WARM_IPOPT assumes)."""
WINDOW_IPOPT: dict[str, Any] = {**WARM_IPOPT, "mu_init": 1e-3, "obj_scaling_factor": 0.02}
"""For EAS started from a receding horizon's previous plans shifted. That start keeps every row but rests at
its tail, where the window's cost to go w ||s(K) - g||^2 (hundreds, far from the goal) pulls on: with
EAS_IPOPT, Ipopt's log shows tens of iterations whose steps the fraction-to-the-boundary rule cuts to 1-10 %
(no backtracking). The objective scaled by 0.02 and the barrier started at 1e-3 (0.05 in the objective's own
units) take 40 % fewer Ipopt iterations on the windows of `dro-ros bench mpc` (README, receding-horizon
missions)."""
MAX_SOLVERS = 8
"""Ipopt solvers (working sets) a stage keeps, least recently used dropped first. EAS builds one per working
set and a shared stage (`bound_to`) meets new sets in every problem; few recur, and kept solvers hold their
Ipopt and MUMPS memory (README, receding-horizon missions over DDS)."""


def single_threaded_blas() -> None:
    """Hold MUMPS's BLAS to one thread unless OPENBLAS_NUM_THREADS says otherwise. Every solve here stands
    for one robot's processor: a thread per core (OpenBLAS's default) would oversubscribe the cores when
    several agents solve at once, and the critical-path clock (thread CPU time, `trajectory.outcome`) would
    not count the helper threads' work. CasADi loads its own OpenBLAS, which reads the variable once, with
    the first solver: so this runs before building a solver, in the processes that solve, not on import."""
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")


class SolveStatus(enum.Enum):
    SOLVED = "solved"                    # Ipopt converged (to tolerance, or to its acceptable level)
    INFEASIBLE = "infeasible"            # Ipopt detected local infeasibility
    ITERATION_LIMIT = "iteration_limit"  # max_iter reached: the point is returned but is not a solution
    FAILED = "failed"                    # any other Ipopt outcome (restoration failure, NaN, ...)


_STATUS = {"Solve_Succeeded": SolveStatus.SOLVED, "Solved_To_Acceptable_Level": SolveStatus.SOLVED,
           "Infeasible_Problem_Detected": SolveStatus.INFEASIBLE,
           "Maximum_Iterations_Exceeded": SolveStatus.ITERATION_LIMIT}


@dataclass
class SolveResult:
    """One Ipopt solve of a stage: the free agents' inputs (H, m) and states (H+1, 2m), and how it went."""

    status: SolveStatus
    return_status: str
    objective: float
    inputs: dict[int, np.ndarray]
    states: dict[int, np.ndarray]
    iterations: int
    solve_time: float                     # the Ipopt call
    build_time: float                     # building the solver for this working set (0 when reused)
    primal: np.ndarray = field(repr=False)
    dual: np.ndarray = field(repr=False)

    @property
    def ok(self) -> bool:
        return self.status is SolveStatus.SOLVED


@dataclass(frozen=True)
class Family:
    """A block of inequality rows of Q: `rows` of them starting at `offset`, `labels[k]` says which."""

    name: str
    offset: int
    rows: int
    labels: np.ndarray   # (rows, 2): (agent or pair index, t)


class Stage:
    """The problem over `free` agents with `fixed` agents as parameters; see the module docstring."""

    def __init__(self, problem: FleetProblem, free: Sequence[int], fixed: Sequence[int] = (), *,
                 pairs: Sequence[tuple[int, int]] | None = None, admm: bool = False,
                 ipopt: dict[str, Any] | None = None) -> None:
        """`pairs` defaults to the problem's coupled pairs inside free + fixed with at least one free agent."""
        self.problem = problem
        self.free, self.fixed = tuple(free), tuple(fixed)
        if not self.free:
            raise ValueError("free: a stage needs at least one free agent")
        if set(self.free) & set(self.fixed):
            raise ValueError(f"agents {sorted(set(self.free) & set(self.fixed))} are both free and fixed")
        for agent in (*self.free, *self.fixed):
            if not 0 <= agent < problem.n_agents:
                raise ValueError(f"agent {agent} is not in the problem (0..{problem.n_agents - 1})")
        members = set(self.free) | set(self.fixed)
        if pairs is None:
            pairs = [p for p in problem.coupled_pairs(members) if p[0] in self.free or p[1] in self.free]
        self.pairs = tuple(pairs)
        self.admm = admm
        self.ipopt = {**IPOPT_DEFAULTS, **(ipopt or {})}
        self._build()
        self._solvers: OrderedDict[tuple, tuple[Any, int]] = OrderedDict()   # shared by `bound_to` views
        self._base: dict[str, ca.Function] = {}                               # shared by `bound_to` views
        self._lock = threading.RLock()   # one build or solve at a time, over all views: over DDS an aborted
                                         # run's solve may still run when the next run's starts

    @staticmethod
    def structure(problem: FleetProblem, free: Sequence[int], fixed: Sequence[int] = (), *,
                  ipopt: dict[str, Any] | None = None) -> tuple:
        """What the compiled stage depends on: everything but the parameters and the terminal bounds (the
        default pairs and no ADMM). Problems with equal structures share one stage (`bound_to`)."""
        options = {**IPOPT_DEFAULTS, **(ipopt or {})}
        return (problem.dim, problem.horizon, problem.step, problem.n_agents, problem.r_min, problem.coupling,
                problem.max_speed, problem.max_input, problem.clearance, problem.traffic_separation,
                len(problem.traffic), problem.separation, tuple(_obstacle_structure(o) for o in problem.obstacles),
                tuple(free), tuple(fixed), tuple(_terminal_structure(problem.terminals[a]) for a in free),
                tuple(sorted(options.items())))

    def bound_to(self, problem: FleetProblem) -> "Stage":
        """This stage for `problem`, of the same `structure`: its parameters and terminal bounds come from
        `problem`; the symbolic graph, the base functions and the solvers are shared with this stage."""
        view = copy.copy(self)
        view.problem = problem
        view.lbx, view.ubx = view._bounds()
        return view

    # --- construction ----------------------------------------------------------------------------
    def _build(self) -> None:
        prob, m, horizon = self.problem, self.problem.dim, self.problem.horizon
        A, B = ca.DM(prob.A), ca.DM(prob.B)
        self._u = [ca.SX.sym(f"u{a}", m, horizon) for a in self.free]
        self._x = [ca.SX.sym(f"x{a}", 2 * m, horizon) for a in self.free]
        self.w = ca.vertcat(*[ca.vec(u) for u in self._u], *[ca.vec(x) for x in self._x])
        self._x0 = ca.SX.sym("x0", 2 * m, len(self.free))
        self._fixed = [ca.SX.sym(f"s{b}", m, horizon) for b in self.fixed]
        self._weights = ca.SX.sym("weights", len(self.free))
        self._goals = [k for k, a in enumerate(self.free) if isinstance(prob.terminals[a], GoalTerminal)]
        self._targets = ca.SX.sym("targets", m, len(self._goals))
        self._traffic = [ca.SX.sym(f"traffic{k}", m, horizon) for k in range(len(prob.traffic))]
        self._fixed0 = ca.SX.sym("fixed0", m, len(self.fixed))          # s_b(0) of the fixed agents
        self._traffic0 = ca.SX.sym("traffic0", m, len(prob.traffic))    # p_k(0)
        params = [ca.vec(self._x0), *[ca.vec(s) for s in self._fixed], self._weights, ca.vec(self._targets),
                  *[ca.vec(path) for path in self._traffic], ca.vec(self._fixed0), ca.vec(self._traffic0)]
        objective = 0
        for k, u in enumerate(self._u):
            objective += self._weights[k] * ca.sumsqr(u)
        for j, k in enumerate(self._goals):   # the window's cost to go
            terminal = prob.terminals[self.free[k]]
            objective += self._weights[k] * terminal.weight * ca.sumsqr(self._x[k][:m, -1] - self._targets[:, j])
        if self.admm:
            self._z = [ca.SX.sym(f"z{a}", m, horizon) for a in self.free]
            self._lam = [ca.SX.sym(f"lam{a}", m, horizon) for a in self.free]
            self._rho = ca.SX.sym("rho")
            for u, z, lam in zip(self._u, self._z, self._lam):
                objective += ca.dot(lam, u - z) + self._rho / 2 * ca.sumsqr(u - z)
            params += [*[ca.vec(z) for z in self._z], *[ca.vec(lam) for lam in self._lam], self._rho]
        self.p = ca.vertcat(*params)
        self.f = objective
        dynamics = []
        for k, (u, x) in enumerate(zip(self._u, self._x)):
            previous = ca.horzcat(self._x0[:, k], x[:, :-1])
            dynamics.append(ca.vec(A @ previous + B @ u - x))
        self.g_eq = ca.vertcat(*dynamics)
        self.families, rows = self._inequalities()
        self.g_all = ca.vertcat(*rows)
        self._evaluate = ca.Function("inequalities", [self.w, self.p], [self.g_all])
        self.lbx, self.ubx = self._bounds()

    def position(self, agent: int) -> ca.SX:
        """s_agent(t), t = 1..H, symbolic: a variable if free, a parameter if fixed."""
        m = self.problem.dim
        if agent in self.free:
            return self._x[self.free.index(agent)][:m, :]
        return self._fixed[self.fixed.index(agent)]

    def start(self, agent: int) -> ca.SX:
        """s_agent(0), symbolic: a parameter (the free agents' x_a(0), the fixed agents' starts)."""
        if agent in self.free:
            return self._x0[:self.problem.dim, self.free.index(agent)]
        return self._fixed0[:, self.fixed.index(agent)]

    def _inequalities(self) -> tuple[list[Family], list[ca.SX]]:
        prob, m, horizon = self.problem, self.problem.dim, self.problem.horizon
        families: list[Family] = []
        rows: list[ca.SX] = []
        offset = 0
        steps = np.arange(horizon)

        def add(name: str, expressions: list[ca.SX], labels: list[np.ndarray]) -> None:
            nonlocal offset
            if not expressions:
                return
            block = ca.vertcat(*expressions)
            rows.append(block)
            families.append(Family(name, offset, block.numel(), np.concatenate(labels)))
            offset += block.numel()

        def label(index: int, times: np.ndarray) -> np.ndarray:
            return np.column_stack([np.full(len(times), index), times])

        if prob.max_speed is not None:
            add("speed", [ca.sum1(x[m:, :] ** 2).T - prob.max_speed ** 2 for x in self._x],
                [label(a, steps + 1) for a in self.free])
        if prob.max_input is not None:
            add("input", [ca.sum1(u ** 2).T - prob.max_input ** 2 for u in self._u],
                [label(a, steps) for a in self.free])
        balls = [(a, x) for a, x in zip(self.free, self._x) if isinstance(prob.terminals[a], BallTerminal)]
        add("terminal", [ca.sumsqr(x[:m, -1] - prob.terminals[a].centre) - prob.terminals[a].radius ** 2
                         for a, x in balls], [label(a, np.array([horizon])) for a, _ in balls])
        segments = prob.separation == "segments"
        coupling = []
        for i, j in self.pairs:
            difference = self.position(j) - self.position(i)
            if prob.coupling == "ordering":
                coupling.append((prob.r_min - difference).T)
            elif segments:
                coupling.append(_segment_rows(difference, self.start(j) - self.start(i), prob.r_min, prob))
            else:
                coupling.append(prob.r_min ** 2 - ca.sum1(difference ** 2).T)
        times = np.concatenate([steps + 1, steps[1:] + 1]) if segments and prob.coupling == "collision" else steps + 1
        add("coupling", coupling, [label(k, times) for k in range(len(self.pairs))])
        n_obstacles = len(prob.obstacles)
        add("obstacle", [_clearance_rows(obstacle, x[:m, :], prob.clearance).T
                         for x in self._x for obstacle in prob.obstacles],
            [label(k * n_obstacles + o, steps + 1) for k in range(len(self.free)) for o in range(n_obstacles)])
        n_traffic = len(prob.traffic)
        if segments:
            traffic = [_segment_rows(x[:m, :] - path, self._x0[:m, k] - self._traffic0[:, o], prob.traffic_separation,
                                     prob) for k, x in enumerate(self._x) for o, path in enumerate(self._traffic)]
        else:
            traffic = [prob.traffic_separation ** 2 - ca.sum1((x[:m, :] - path) ** 2).T
                       for x in self._x for path in self._traffic]
        times = np.concatenate([steps + 1, steps[1:] + 1]) if segments else steps + 1
        add("traffic", traffic,
            [label(k * n_traffic + o, times) for k in range(len(self.free)) for o in range(n_traffic)])
        return families, rows

    def _bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """Terminal equalities as bounds on x_a(H): the whole state, or the velocity for a ball or a goal."""
        m, horizon = self.problem.dim, self.problem.horizon
        n_u = len(self.free) * m * horizon
        lower = np.full(self.w.numel(), -np.inf)
        upper = np.full(self.w.numel(), np.inf)
        for k, agent in enumerate(self.free):
            terminal = self.problem.terminals[agent]
            last = n_u + (k + 1) * 2 * m * horizon - 2 * m
            if isinstance(terminal, FixedTerminal):
                lower[last:last + m] = upper[last:last + m] = terminal.position
            lower[last + m:last + 2 * m] = upper[last + m:last + 2 * m] = terminal.velocity
        return lower, upper

    # --- sizes and masks -------------------------------------------------------------------------
    @property
    def n_inequalities(self) -> int:
        return int(self.g_all.numel())

    def mask(self, *names: str) -> np.ndarray:
        """Boolean mask over Q selecting whole families (all of Q when no name is given)."""
        selected = np.zeros(self.n_inequalities, dtype=bool)
        for family in self.families:
            if not names or family.name in names:
                selected[family.offset:family.offset + family.rows] = True
        return selected

    def convex_mask(self) -> np.ndarray:
        """Q without the nonconvex collision, obstacle and traffic rows: the warm-start problem."""
        nonconvex = {"obstacle", "traffic"} | ({"coupling"} if self.problem.coupling == "collision" else set())
        names = [f.name for f in self.families if f.name not in nonconvex]
        return self.mask(*names) if names else np.zeros(self.n_inequalities, dtype=bool)

    # --- parameters, guesses and solutions -------------------------------------------------------
    def parameters(self, *, initial: np.ndarray | None = None, fixed: dict[int, np.ndarray] | None = None,
                   weights: Sequence[float] | None = None, z: dict[int, np.ndarray] | None = None,
                   lam: dict[int, np.ndarray] | None = None, rho: float = 1.0) -> np.ndarray:
        """The parameter vector. `initial` defaults to the problem's x_a(0); `fixed` maps each fixed agent to
        its positions (H, m) for t = 1..H or states (H+1, 2m) for t = 0..H; ADMM `z`, `lam` map free agents
        to (H, m) arrays (zero by default). The goal targets and traffic paths are the problem's."""
        prob, m, horizon = self.problem, self.problem.dim, self.problem.horizon
        x0 = prob.initial[list(self.free)] if initial is None else np.asarray(initial, dtype=float)
        parts = [x0.reshape(len(self.free), 2 * m).ravel()]
        for agent in self.fixed:
            if fixed is None or agent not in fixed:
                raise ValueError(f"fixed: no trajectory for fixed agent {agent}")
            parts.append(_positions(np.asarray(fixed[agent], dtype=float), m, horizon, agent).ravel())
        parts.append(np.ones(len(self.free)) if weights is None else np.asarray(weights, dtype=float))
        parts += [prob.terminals[self.free[k]].target for k in self._goals]
        parts += [path[1:].ravel() for path in prob.traffic]
        parts += [prob.initial[b, :m] for b in self.fixed] + [path[0] for path in prob.traffic]
        if self.admm:
            zero = np.zeros(horizon * m)
            parts += [np.asarray(z[a]).ravel() if z and a in z else zero for a in self.free]
            parts += [np.asarray(lam[a]).ravel() if lam and a in lam else zero for a in self.free]
            parts.append(np.array([rho]))
        return np.concatenate(parts)

    def guess(self, parameters: np.ndarray, inputs: dict[int, np.ndarray] | None = None) -> np.ndarray:
        """A dynamically consistent starting point: the free agents' `inputs` (H, m) (default u = 0, rest)
        and the states they imply."""
        m, horizon = self.problem.dim, self.problem.horizon
        x0 = parameters[:2 * m * len(self.free)].reshape(len(self.free), 2 * m)
        rest = np.zeros((horizon, m))
        chosen = [rest if inputs is None else np.asarray(inputs[a], dtype=float) for a in self.free]
        states = [self.problem.rollout(u, row)[1:].ravel() for u, row in zip(chosen, x0)]
        return np.concatenate([*(u.ravel() for u in chosen), *states])

    def unpack(self, w: np.ndarray, parameters: np.ndarray) -> tuple[dict[int, np.ndarray], dict[int, np.ndarray]]:
        m, horizon, n = self.problem.dim, self.problem.horizon, len(self.free)
        x0 = parameters[:2 * m * n].reshape(n, 2 * m)
        u_block, x_block = w[:n * m * horizon].reshape(n, horizon, m), w[n * m * horizon:].reshape(n, horizon, 2 * m)
        inputs = {a: u_block[k].copy() for k, a in enumerate(self.free)}
        states = {a: np.vstack([x0[k], x_block[k]]) for k, a in enumerate(self.free)}
        return inputs, states

    def inequality_values(self, w: np.ndarray, parameters: np.ndarray) -> np.ndarray:
        """c_j(x) for every row j of Q (<= 0 when satisfied)."""
        return np.asarray(self._evaluate(w, parameters)).ravel()

    def most_violated(self, w: np.ndarray, parameters: np.ndarray) -> str:
        """The constraint most violated at `w`: a row of Q named by family, agents and step, or the dynamics
        of an agent at a step (the constraint a failed solve could not meet, e.g. after a push); "" when
        none is violated."""
        values = self.inequality_values(w, parameters)
        residuals = np.abs(np.asarray(self.base_functions()["g_eq"](w, parameters)).ravel())
        worst = max(float(np.max(values, initial=0.0)), float(np.max(residuals, initial=0.0)))
        if worst <= 0:
            return ""
        if residuals.size and residuals.max() >= worst:   # x(t) = A x(t-1) + B u(t), blocks of 2m H rows
            row, block = int(np.argmax(residuals)), 2 * self.problem.dim * self.problem.horizon
            agent, step = self.free[row // block], (row % block) // (2 * self.problem.dim) + 1
            return f"most violated: dynamics of agent {agent} at step {step}, by {residuals.max():.3g}"
        row = int(np.argmax(values))
        family = next(f for f in self.families if f.offset <= row < f.offset + f.rows)
        index, step = (int(v) for v in family.labels[row - family.offset])
        if family.name == "coupling":
            who = "agents {} and {}".format(*self.pairs[index])
        elif family.name in ("obstacle", "traffic"):
            k, other = divmod(index, len(self.problem.obstacles if family.name == "obstacle" else self.problem.traffic))
            who = f"agent {self.free[k]} and {family.name} {other}"
        else:
            who = f"agent {index}"
        return f"most violated: {family.name} of {who} at step {step}, by {values[row]:.3g}"

    # --- solving ---------------------------------------------------------------------------------
    def solver(self, mask: np.ndarray | None = None, max_iter: int | None = None) -> tuple[Any, int]:
        """The Ipopt solver for the working set `mask` over Q (all of Q by default) and its number of
        inequality rows; built once per (mask, max_iter).

        Objective, dynamics and their derivatives are compiled once per stage (`base_functions`); a
        working set only differentiates its own rows and is composed with them as a small MX graph, so
        an EAS round builds its solver in milliseconds rather than re-deriving the whole problem.
        """
        with self._lock:
            return self._solver(self.mask() if mask is None else np.asarray(mask, dtype=bool), max_iter)

    def _solver(self, mask: np.ndarray, max_iter: int | None) -> tuple[Any, int]:
        key = (np.packbits(mask).tobytes(), mask.size, max_iter)
        if key in self._solvers:
            self._solvers.move_to_end(key)
        else:
            base = self.base_functions()
            rows = np.flatnonzero(mask)
            selected = self.g_all[rows.tolist()] if rows.size else ca.SX(0, 1)
            multipliers = ca.SX.sym("lam_rows", selected.numel())
            rows_value = ca.Function("rows", [self.w, self.p], [selected, ca.jacobian(selected, self.w)])
            rows_hessian = ca.Function("rows_hessian", [self.w, self.p, multipliers],
                                       [ca.triu(ca.hessian(ca.dot(multipliers, selected), self.w)[0])])
            w, p = ca.MX.sym("w", self.w.numel()), ca.MX.sym("p", self.p.numel())
            n_eq = int(self.g_eq.numel())
            lam_f, lam_g = ca.MX.sym("lam_f"), ca.MX.sym("lam_g", n_eq + rows.size)
            g_rows, jacobian_rows = rows_value(w, p)
            g = ca.vertcat(base["g_eq"](w, p), g_rows)
            options = {
                "ipopt": {**self.ipopt, **({"max_iter": max_iter} if max_iter else {})},
                "print_time": False, "calc_lam_p": False,
                "grad_f": ca.Function("grad_f", [w, p], list(base["grad_f"](w, p))),
                "jac_g": ca.Function("jac_g", [w, p], [g, ca.vertcat(base["jac_eq"](w, p), jacobian_rows)]),
                "hess_lag": ca.Function("hess_lag", [w, p, lam_f, lam_g],
                                        [lam_f * base["hess_f"](w, p) + rows_hessian(w, p, lam_g[n_eq:])]),
            }
            single_threaded_blas()
            solver = ca.nlpsol("stage", "ipopt", {"x": w, "p": p, "f": base["f"](w, p), "g": g}, options)
            self._solvers[key] = (solver, rows.size)
            if len(self._solvers) > MAX_SOLVERS:
                self._solvers.popitem(last=False)
        return self._solvers[key]

    def base_functions(self) -> dict[str, ca.Function]:
        """Objective, dynamics and their derivatives (the dynamics are linear: no Hessian term)."""
        with self._lock:
            if not self._base:
                self._base.update(self._compile_base())
        return self._base

    def _compile_base(self) -> dict[str, ca.Function]:
        w, p = self.w, self.p
        return {
            "f": ca.Function("f", [w, p], [self.f]),
            "grad_f": ca.Function("grad_f", [w, p], [self.f, ca.gradient(self.f, w)]),
            "hess_f": ca.Function("hess_f", [w, p], [ca.triu(ca.hessian(self.f, w)[0])]),
            "g_eq": ca.Function("g_eq", [w, p], [self.g_eq]),
            "jac_eq": ca.Function("jac_eq", [w, p], [ca.jacobian(self.g_eq, w)]),
        }

    def solve(self, parameters: np.ndarray, guess: np.ndarray | None = None, *, mask: np.ndarray | None = None,
              dual: np.ndarray | None = None, max_iter: int | None = None) -> SolveResult:
        """Solve with the working set `mask` from `guess` (default `guess`: at rest); `dual` warm-starts lam_g."""
        with self._lock:   # a solver's stats are those of its last call
            started = time.perf_counter()
            solver, n_rows = self.solver(mask, max_iter)
            build_time = time.perf_counter() - started
            n_eq = int(self.g_eq.numel())
            lbg = np.concatenate([np.zeros(n_eq), np.full(n_rows, -np.inf)])
            ubg = np.zeros(n_eq + n_rows)
            arguments = dict(x0=self.guess(parameters) if guess is None else guess, p=parameters,
                             lbx=self.lbx, ubx=self.ubx, lbg=lbg, ubg=ubg)
            if dual is not None and len(dual) == n_eq + n_rows:
                arguments["lam_g0"] = dual
            started = time.perf_counter()
            solution = solver(**arguments)
            elapsed = time.perf_counter() - started
            stats = solver.stats()
        w = np.asarray(solution["x"]).ravel()
        inputs, states = self.unpack(w, parameters)
        return SolveResult(
            status=_STATUS.get(stats["return_status"], SolveStatus.FAILED), return_status=stats["return_status"],
            objective=float(sum(np.sum(u ** 2) for u in inputs.values())), inputs=inputs, states=states,
            iterations=int(stats.get("iter_count", 0)), solve_time=elapsed, build_time=build_time, primal=w,
            dual=np.asarray(solution["lam_g"]).ravel())


def _segment_rows(relative: ca.SX, start: ca.SX, bound: float, problem: FleetProblem) -> ca.SX:
    """The separation rows (2H - 1,) on the segments between samples (`separation: segments`), <= 0 when clear.

    d(t) is a relative position (m, H) for t = 1..H and d(0) = `start`. Within step k the relative path is
    the chord from d_k to d_(k+1), L_k = ||d_(k+1) - d_k|| long, plus at most 2 u_bar t_s^2 / 8 of curvature
    (each robot's input is constant over the step). A chord whose ends are at least D from the origin passes
    it at sqrt(D^2 - L^2 / 4) at least, so the rows

        rho^2 + ||d_(k+1) - d_k||^2 / 4 - ||d_(k+1)||^2 <= 0,  rho^2 + ||d_(k+1) - d_k||^2 / 4 - ||d_k||^2 <= 0,

    with rho = bound + u_bar t_s^2 / 4, keep ||d(t)|| >= bound at every instant, not only at the samples
    (without u_bar, rho = bound and the curvature is not covered). First the H end rows (t = 1..H), then
    the start rows of steps 2..H, labelled by the step's end t = 2..H. The first step's start d(0) is
    data: a window started from its previous plan (which kept these rows) has it; one started elsewhere
    (after a push) is not covered in its first step."""
    previous = ca.horzcat(start, relative[:, :-1])
    change = ca.sum1((relative - previous) ** 2) / 4
    rho = bound + (problem.max_input or 0.0) * problem.step ** 2 / 4
    ends = rho ** 2 + change - ca.sum1(relative ** 2)
    starts = rho ** 2 + change[1:] - ca.sum1(previous[:, 1:] ** 2)
    return ca.vertcat(ends.T, starts.T)


def _clearance_rows(obstacle: Obstacle, positions: ca.SX, clearance: float) -> ca.SX:
    """The obstacle rows (1, H) of positions (2, H), <= 0 when clear (module docstring, `obstacles`)."""
    if isinstance(obstacle, DiscObstacle):
        return (obstacle.radius + clearance) ** 2 - ca.sum1((positions - obstacle.centre) ** 2)
    faces = ca.DM(obstacle.normals) @ positions - ca.DM(obstacle.offsets)      # (K, H): a_k . s - b_k
    largest = faces[0, :]
    for k in range(1, faces.shape[0]):
        largest = ca.fmax(largest, faces[k, :])
    beta = 1.0 / SMOOTHING   # LSE shifted by the largest face distance, so exp never overflows
    shifted = ca.exp(beta * (faces - ca.repmat(largest, faces.shape[0], 1)))
    smooth = largest + (ca.log(ca.sum1(shifted)) - np.log(faces.shape[0])) / beta
    return clearance - smooth


def _terminal_structure(terminal: Terminal) -> tuple:
    """What a free agent's terminal puts into the compiled stage: a ball's row, a goal's weight."""
    if isinstance(terminal, BallTerminal):
        return ("ball", terminal.centre.tobytes(), terminal.radius)
    if isinstance(terminal, GoalTerminal):
        return ("goal", terminal.weight)
    return ("fixed",)


def _obstacle_structure(obstacle: Obstacle) -> tuple:
    return (type(obstacle).__name__, *(np.asarray(getattr(obstacle, f.name), dtype=float).tobytes()
                                       for f in fields(obstacle)))


def _positions(trajectory: np.ndarray, m: int, horizon: int, agent: int) -> np.ndarray:
    """Positions s(t), t = 1..H, from an (H, m) position array or an (H+1, 2m) state array."""
    if trajectory.shape == (horizon + 1, 2 * m):
        return trajectory[1:, :m]
    if trajectory.shape == (horizon, m):
        return trajectory
    raise ValueError(f"fixed[{agent}]: expected shape ({horizon}, {m}) or ({horizon + 1}, {2 * m}), "
                     f"got {trajectory.shape}")
