"""The time-varying MOSAIC MILP (the "tv" scheduler), built sparse.

Indices: agents i, j; tasks m (p for a prerequisite); steps t = 0..T-1 of `dt` seconds; d[m,i] >= 1 is
the number of steps agent i needs for m (ceil of ComputationTime / dt). This is the model MOSAIC's
PuLP scheduler implements (`/work/shared/mosaic/SEMANTICS.md` section 1, tv = its MOSAICSolver.py),
built sparse; `Semantics` says where the default departs from it (the makespan term). Variables:

- X[i,m,t] in {0,1}: agent i starts m at step t <= T-d-1 (occupies steps t..t+d-1, so the last step
  T-1 never computes; product held from t+d) (tv 1567-1569, 1615-1616);
- D[i,m,t] in [0,1]: agent i holds m's product at step t (only for products some task needs);
- C[i,j,m,t] in {0,1}: i starts sending m's product to j at step t, where the link carries data in
  step t (only the start step must; tv 1723-1729).

Constraints (numbers used in the docstrings below):

  (1) required task: sum_{i,t} X[i,m,t] = 1; optional task: sum_{i,t} X[i,m,t] <= 1;
  (2) incompatible group G: sum_{m in G} sum_{i,t} X[i,m,t] <= 1;
  (3) CNF dependency, for each clause K of m and step t: sum_{t' <= t} X[i,m,t'] <= sum_{p in K} D[i,p,t]
      (cumulative: a product held at level f enables at most f of m's starts on i up to t in total,
      where X[i,m,t] <= sum D[i,p,t] alone let the LP start a fraction f at every step);
  (4) capacity of agent i at step k: sum load[m,i] * X[i,m,t] over computations running at k
      + number of transfers in progress at k that i sends or receives <= 1;
  (5) learning: D[i,m,t] - D[i,m,t-1] <= X[i,m,t-d[m,i]] + sum of C[j,i,m,s] completing at t;
      streaming: a transfer started at s completes at end(s), the first step boundary by which the
      link has carried the product's size (it occupies both agents for steps s..end(s)-1; a product
      of size 0 arrives at once, at step max(s, 1), and occupies no step);
      packet mode: each C[j,i,m,s] delivers min(1, bits(s)/size) of the product at s+1, through the
      continuous level K[i,m,t] = K[i,m,t-1] + X[i,m,t-d] + sum_j f * C[j,i,m,t-1] and D <= K;
  (6) knowledge: sum_j C[i,j,m,t] <= D[i,m,t] (one row per sender, product and step: valid because (4)
      allows at most one transfer in progress per agent; one row per receiver for size 0);
  (7) initial information: D[i,m,0] <= InitialInformation[m][i];
  (8) makespan (when weighted): binary Z[s] for s = 1..T, Z[s] = 1 iff the schedule runs past step
      s - 1, M = dt * sum_s Z[s], with Z[s] >= sum_{i, t: t + d[m,i] >= s} X[i,m,t] for every task m
      and step s, Z[s] >= Z[s+1], and Z[s] = 1 for s <= L, the latest over required tasks of the
      earliest step any agent can finish them (from the reachability pass);
  (9) workload (when weighted, and w_e >= 0): sum_s Z[s] >= sum_k (left-hand side of (4) for agent i
      at step k), for every agent i: each busy step of an agent lies before the makespan.

(3) and (9) hold in an optimal solution made canonical: D at its largest (an agent keeps what it
holds), and no transfer that ends after the last computation (such a transfer, and any forwarding of
its product, feeds no computation; dropping it saves its tie-break, and with w_e >= 0 its energy is no
gain). So the optimum is unchanged; the rows cut fractional solutions, which the makespan bound
needs: without them the LP put a fraction of a product on an agent and started a task from it at
every step, and spread an agent's work below the makespan (rovers9_30_makespan, measured before the
last-usable-step rule: LP bound -137.00 without the cumulative form of (3) and without (9), -135.41
with them).

Objective (minimise; MOSAIC's `Fval`, tv 1565-1608):
  w_r * (-sum_{optional m} reward[m] X + 0.001 * sum C) + w_e * (sum energy[m,i] X + sum e_C C)
  + w_t * M   (the makespan term only where `Semantics.weighs_makespan`),
with the transfer energy e_C of `links.SteppedLink`: (end(t) - t) * energy[t] * bits[t] streaming,
energy[t] * bits[t] per packet.

Construction (the optimum is MOSAIC's): the model is built from precomputed index lists (no
O(agents^2 x tasks x steps^2) loops); D is continuous in streaming mode (integral at every integer X,
C); a reachability pass (earliest step each agent can hold each product) removes variables that must
be 0, and reports a required task that can never start as infeasible before any solver runs; starts
that earn nothing (t > T-d-1), transfers that cannot complete inside the horizon, self-transfers and
transfers of products no task needs are never created (they cost, or gain nothing).
"""
from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass

import numpy as np
import pulp

from dro_ros.scheduling.links import Link, SteppedLink, stepped_links
from dro_ros.scheduling.problem import Problem, ProblemError
from dro_ros.scheduling.schedule import Compute, Schedule, Transfer, make_schedule
from dro_ros.scheduling.semantics import Semantics

TRANSFER_TIE_BREAK = 1e-3

Key3 = tuple[int, int, int]
Key4 = tuple[int, int, int, int]
Row = list[tuple[pulp.LpVariable, float]]


@dataclass
class TimeVaryingModel:
    """A built TV model: the PuLP problem and the maps from (agent, task, step) to its variables."""

    problem: Problem
    lp: pulp.LpProblem
    x: dict[Key3, pulp.LpVariable]
    c: dict[Key4, pulp.LpVariable]
    d: dict[Key3, pulp.LpVariable]
    k: dict[Key3, pulp.LpVariable]
    late: dict[int, pulp.LpVariable]
    makespan_bound: int
    durations: np.ndarray
    transfer_end: dict[Key4, int]
    links: dict[Link, SteppedLink]
    infeasible_reason: str | None

    def schedule(self) -> Schedule:
        """The schedule in the variables' current values (after a solve)."""
        p, dt = self.problem, self.problem.step
        computes = [Compute(p.tasks[m], p.agents[i], t * dt, int(self.durations[m, i]) * dt)
                    for (i, m, t), var in self.x.items() if (var.varValue or 0.0) > 0.5]
        transfers = []
        for (i, j, m, t), var in self.c.items():
            if (var.varValue or 0.0) > 0.5:
                link = self.links[(p.agents[i], p.agents[j])]
                transfers.append(Transfer(p.tasks[m], p.agents[i], p.agents[j], t * dt,
                                          (self.transfer_end[(i, j, m, t)] - t) * dt,
                                          float(link.bits[t]) / dt))
        return make_schedule(computes, transfers)

    def start_values(self, schedule: Schedule) -> dict[pulp.LpVariable, float]:
        """A MIP start from `schedule` (e.g. the previous solve's): X and C from its entries, D, K and
        Z derived with rules (5)-(8) (Z up to the last computation or transfer). Entries that do not map
        to a variable of this model are dropped."""
        p, dt = self.problem, self.problem.step
        agent_ix = {a: i for i, a in enumerate(p.agents)}
        task_ix = {t: m for m, t in enumerate(p.tasks)}
        values = {var: 0.0 for table in (self.x, self.c, self.d, self.k, self.late) for var in table.values()}
        events: dict[tuple[int, int], list[tuple[int, float]]] = defaultdict(list)
        finish = 0.0
        for entry in schedule.computes:
            i, m = agent_ix.get(entry.agent), task_ix.get(entry.task)
            key = (i, m, round((entry.start or 0.0) / dt))
            if key in self.x:
                values[self.x[key]] = 1.0
                end = key[2] + int(self.durations[m, i])
                events[(i, m)].append((end, 1.0))
                finish = max(finish, end * dt)
        for entry in schedule.transfers:
            i, j = agent_ix.get(entry.sender), agent_ix.get(entry.receiver)
            key = (i, j, task_ix.get(entry.product), round((entry.start or 0.0) / dt))
            if key in self.c:
                values[self.c[key]] = 1.0
                if p.packet_comms:
                    bits = self.links[(entry.sender, entry.receiver)].bits[key[3]]
                    size = p.product_size[entry.product]
                    events[(j, key[2])].append((key[3] + 1, min(1.0, bits / size) if size > 0 else 1.0))
                else:
                    events[(j, key[2])].append((max(1, self.transfer_end[key]), 1.0))
                finish = max(finish, self.transfer_end[key] * dt)
        for (i, m, t), var in self.d.items():
            level = float(p.initial_information[p.tasks[m]].get(p.agents[i], False))
            level += sum(amount for when, amount in events[(i, m)] if when <= t)
            if (i, m, t) in self.k:
                values[self.k[(i, m, t)]] = level
            values[var] = 1.0 if level >= 1.0 - 1e-9 else 0.0
        for s, var in self.late.items():
            values[var] = 1.0 if s * dt <= finish + 1e-9 else 0.0
        return values

    def objective_value(self, schedule: Schedule) -> float:
        """The objective of `schedule` as the MIP start `start_values` makes of it."""
        values = self.start_values(schedule)
        return sum(coefficient * values[var] for var, coefficient in self.lp.objective.items())


def build(problem: Problem, semantics: Semantics = Semantics.FIXED) -> TimeVaryingModel:
    """Build the TV MILP of `problem` (see the module docstring for the equations)."""
    return _Builder(problem, semantics).build()


class _Builder:
    """Holds the index lists while the model is assembled; one method per constraint family."""

    def __init__(self, problem: Problem, semantics: Semantics) -> None:
        self.p = problem
        self.semantics = semantics
        self.n = problem.n_steps
        if not semantics.defaults_info_time:
            for k, window in enumerate(problem.windows):
                if window.info_time is None:
                    raise ProblemError(f"CommunicationNetwork[{k}].info_time",
                                       "missing (MOSAIC's time-varying scheduler needs it; the default "
                                       "semantics takes 0)")
        self.agent_ix = {a: i for i, a in enumerate(problem.agents)}
        self.task_ix = {t: m for m, t in enumerate(problem.tasks)}
        self.durations = self._durations()
        self.clauses = [[[self.task_ix[q] for q in dict.fromkeys(clause)]
                         for clause in problem.dependencies[task]] for task in problem.tasks]
        self.needed = sorted({p for clauses in self.clauses for clause in clauses for p in clause})
        self.initial = np.array([[problem.initial_information[t].get(a, False) for a in problem.agents]
                                 for t in problem.tasks], dtype=bool)
        self.links = stepped_links(problem, semantics)
        self.link_ix = [(self.agent_ix[o], self.agent_ix[d]) for (o, d) in self.links]
        self._transfer_tables()
        self._reachability()
        self.lp = pulp.LpProblem("mosaic_tv", pulp.LpMinimize)
        self.objective: dict[pulp.LpVariable, float] = defaultdict(float)
        self.x: dict[Key3, pulp.LpVariable] = {}
        self.c: dict[Key4, pulp.LpVariable] = {}
        self.d: dict[Key3, pulp.LpVariable] = {}
        self.k: dict[Key3, pulp.LpVariable] = {}
        self.transfer_end: dict[Key4, int] = {}
        self.late: dict[int, pulp.LpVariable] = {}
        self.makespan_bound = self._makespan_bound()

    # --- precomputation -------------------------------------------------------------------------

    def _durations(self) -> np.ndarray:
        """d[m,i] = ceil(ComputationTime / dt) steps (tv 227-231; up to rounding where
        `Semantics.rounds_to_steps`), or n+1 where agent i cannot run m (too long, load above the
        capacity of 1, absent)."""
        p = self.p
        slack = 1e-9 if self.semantics.rounds_to_steps else 0.0
        d = np.full((len(p.tasks), len(p.agents)), self.n + 1, dtype=int)
        for m, task in enumerate(p.tasks):
            for agent, seconds in p.computation_time[task].items():
                if seconds <= p.horizon and p.computation_load[task][agent] <= 1.0 + 1e-9:
                    d[m, self.agent_ix[agent]] = max(1, math.ceil(float(seconds) / float(p.step) - slack))
        return d

    def _transfer_tables(self) -> None:
        """Per (link, needed product): `ends[t]` of a transfer started at t (streaming; t+1 for a
        packet) and `arrivals[t]` = max(ends[t], 1), the step the receiver holds it from; `first[h]`,
        the earliest step the receiver can hold the product when the sender holds it from step h
        (n+1 if never; a lower bound in packet mode, where packets may combine); and `last[h]`, the
        latest start whose transfer arrives by step h (-1 if none)."""
        self.ends, self.arrivals, self.first, self.last = {}, {}, {}, {}
        steps = np.arange(self.n)
        for li, link in enumerate(self.links.values()):
            up = link.bits > 0
            for m in self.needed:
                size = self.p.product_size[self.p.tasks[m]]
                end = steps + 1 if self.p.packet_comms else link.transfer_end(size)
                arrival = np.maximum(end, 1)
                usable = up & (arrival <= self.n - 1)
                self.ends[(li, m)], self.arrivals[(li, m)] = end, arrival
                self.first[(li, m)] = np.minimum.accumulate(np.where(usable, arrival, self.n + 1)[::-1])[::-1]
                last = np.full(self.n, -1)
                np.maximum.at(last, arrival[usable], steps[usable])
                self.last[(li, m)] = np.maximum.accumulate(last)

    def _reachability(self) -> None:
        """Earliest and latest useful steps, as fixed points over the links.

        Forward: hold_min[p,i] = 0 if i initially holds p, else min(start_min[p,i] + d[p,i], arrival
        over links (j,i) given hold_min[p,j]); start_min[m,i] = max over clauses K of m of
        min_{p in K} hold_min[p,i]. Backward: hold_max[p,i] = max(latest start on i of a task needing
        p, latest start of a transfer from i that completes by hold_max[p,j]). Variables outside these
        steps are 0 in every feasible schedule (before) or useless (after), so they are not created.
        """
        never = self.n + 1
        hold = np.where(self.initial, 0, never)
        while True:
            start = np.zeros_like(hold)
            for m, clauses in enumerate(self.clauses):
                for clause in clauses:
                    start[m] = np.maximum(start[m], hold[clause].min(axis=0))
            finish = start + self.durations
            new = np.minimum(hold, np.where(finish <= self.n - 1, finish, never))
            for li, (i, j) in enumerate(self.link_ix):
                for m in self.needed:
                    if new[m, i] < self.n:
                        new[m, j] = min(new[m, j], self.first[(li, m)][new[m, i]])
            if np.array_equal(new, hold):
                break
            hold = new
        self.start_min, self.hold_min = start, hold
        latest = np.full_like(hold, -1)
        last_start = self.n - self.durations - 1
        for c, clauses in enumerate(self.clauses):
            capable = start[c] <= last_start[c]
            for clause in clauses:
                for p in clause:
                    latest[p] = np.where(capable, np.maximum(latest[p], last_start[c]), latest[p])
        while True:
            new = latest.copy()
            for li, (i, j) in enumerate(self.link_ix):
                for m in self.needed:
                    if new[m, j] >= 0:
                        new[m, i] = max(new[m, i], self.last[(li, m)][new[m, j]])
            if np.array_equal(new, latest):
                break
            latest = new
        self.hold_max = latest

    def _makespan_bound(self) -> int:
        """L of (8): every required task ends at or after the earliest step some agent can finish it."""
        finish = (self.start_min + self.durations).min(axis=1)
        required = [m for m, task in enumerate(self.p.tasks) if not self.p.optional[task]]
        return int(min(self.n, max((finish[m] for m in required), default=0)))

    # --- variables ------------------------------------------------------------------------------

    def _variables(self) -> None:
        p, n, d = self.p, self.n, self.durations
        for m, task in enumerate(p.tasks):
            for i in range(len(p.agents)):
                for t in range(int(self.start_min[m, i]), n - int(d[m, i])):
                    self.x[(i, m, t)] = self.lp.add_variable(f"x_{i}_{m}_{t}", cat=pulp.LpBinary)
        hold_cat = pulp.LpBinary if p.packet_comms else pulp.LpContinuous
        for m in self.needed:
            for i in range(len(p.agents)):
                for t in range(int(self.hold_min[m, i]), int(self.hold_max[m, i]) + 1):
                    self.d[(i, m, t)] = self.lp.add_variable(f"d_{i}_{m}_{t}", 0, 1, hold_cat)
                    if p.packet_comms:
                        self.k[(i, m, t)] = self.lp.add_variable(f"k_{i}_{m}_{t}", 0)
        for li, link in enumerate(self.links.values()):
            i, j = self.link_ix[li]
            up = np.flatnonzero(link.bits > 0)
            for m in self.needed:
                if self.initial[m, j]:
                    continue
                end, arrival = self.ends[(li, m)], self.arrivals[(li, m)]
                useful = ((up >= self.hold_min[m, i]) & (up <= self.hold_max[m, i])
                          & (arrival[up] <= self.hold_max[m, j]))
                for t in up[useful]:
                    key = (i, j, m, int(t))
                    self.c[key] = self.lp.add_variable(f"c_{i}_{j}_{m}_{t}", cat=pulp.LpBinary)
                    self.transfer_end[key] = int(end[t])
        if p.weights.makespan != 0 and self.semantics.weighs_makespan:
            for s in range(1, n + 1):
                self.late[s] = self.lp.add_variable(f"z_{s}", cat=pulp.LpBinary)
                self.late[s].lowBound = 1 if s <= self.makespan_bound else 0

    # --- constraints ----------------------------------------------------------------------------

    def _add(self, row: Row, sense: int, rhs: float) -> None:
        self.lp.addConstraint(pulp.LpConstraint(pulp.LpAffineExpression(row), sense, rhs=rhs))

    def _task_rows(self) -> str | None:
        """(1) and (2). Returns why the problem is infeasible if a required task has no start."""
        by_task: dict[int, Row] = defaultdict(list)
        for (i, m, t), var in self.x.items():
            by_task[m].append((var, 1.0))
        for m, task in enumerate(self.p.tasks):
            row = by_task[m]
            if not self.p.optional[task]:
                if not row:
                    return (f"required task {task!r} cannot run on any agent within the horizon "
                            "(no capable agent, or its prerequisites never reach one in time)")
                self._add(row, pulp.LpConstraintEQ, 1.0)
            elif len(row) > 1:
                self._add(row, pulp.LpConstraintLE, 1.0)
        for group in self.p.incompatible:
            row = [pair for task in dict.fromkeys(group) for pair in by_task[self.task_ix[task]]]
            if len(row) > 1:
                self._add(row, pulp.LpConstraintLE, 1.0)
        return None

    def _dependency_rows(self) -> None:
        """(3): sum_{t' <= t} X[i,m,t'] <= sum_{p in K} D[i,p,t] for every clause K of m. Every D[i,p,t]
        of a step at which m can start exists: the backward pass keeps p until m's latest start."""
        started: Row = []
        for (i, m, t), var in sorted(self.x.items()):
            started = started + [(var, 1.0)] if (i, m, t - 1) in self.x else [(var, 1.0)]
            for clause in self.clauses[m]:
                row = started + [(self.d[(i, q, t)], -1.0) for q in clause if (i, q, t) in self.d]
                self._add(row, pulp.LpConstraintLE, 0.0)

    def _capacity_rows(self) -> None:
        """(4): loads of running computations plus transfers in progress (sent or received) <= 1."""
        rows: dict[tuple[int, int], Row] = defaultdict(list)
        for (i, m, t), var in self.x.items():
            load = self.p.computation_load[self.p.tasks[m]][self.p.agents[i]]
            if load > 0:
                for step in range(t, t + int(self.durations[m, i])):
                    rows[(i, step)].append((var, load))
        for (i, j, m, t), var in self.c.items():
            for step in range(t, self.transfer_end[(i, j, m, t)]):
                rows[(i, step)].append((var, 1.0))
                rows[(j, step)].append((var, 1.0))
        for row in rows.values():
            if sum(coef for _, coef in row) > 1.0 + 1e-9:
                self._add(row, pulp.LpConstraintLE, 1.0)

    def _workload_rows(self) -> None:
        """(9): sum_s Z[s] >= load[m,i] * d[m,i] * X[i,m,t] summed over i's computations, plus the
        steps of each transfer i sends or receives."""
        makespan = [(var, 1.0) for var in self.late.values()]
        work: dict[int, Row] = {i: list(makespan) for i in range(len(self.p.agents))}
        for (i, m, t), var in self.x.items():
            load = self.p.computation_load[self.p.tasks[m]][self.p.agents[i]]
            work[i].append((var, -load * int(self.durations[m, i])))
        for (i, j, m, t), var in self.c.items():
            steps = self.transfer_end[(i, j, m, t)] - t
            work[i].append((var, -float(steps)))
            work[j].append((var, -float(steps)))
        for row in work.values():
            self._add(row, pulp.LpConstraintGE, 0.0)

    def _learning_rows(self) -> None:
        """(5) and (7): how an agent comes to hold a product (D's bounds encode (7))."""
        arriving: dict[Key3, Row] = defaultdict(list)
        for (i, j, m, t), var in self.c.items():
            if self.p.packet_comms:
                link = self.links[(self.p.agents[i], self.p.agents[j])]
                size = self.p.product_size[self.p.tasks[m]]
                share = min(1.0, float(link.bits[t]) / size) if size > 0 else 1.0
                arriving[(j, m, t + 1)].append((var, -share))
            else:
                arriving[(j, m, max(1, self.transfer_end[(i, j, m, t)]))].append((var, -1.0))
        level = self.k if self.p.packet_comms else self.d
        for (i, m, t), var in level.items():
            if t == 0:
                var.upBound = float(self.initial[m, i])
                continue
            row = [(var, 1.0)] + arriving.get((i, m, t), [])
            if (i, m, t - 1) in level:
                row.append((level[(i, m, t - 1)], -1.0))
            computed = self.x.get((i, m, t - int(self.durations[m, i])))
            if computed is not None:
                row.append((computed, -1.0))
            self._add(row, pulp.LpConstraintEQ if self.p.packet_comms else pulp.LpConstraintLE, 0.0)
        for key, var in self.k.items():
            self._add([(self.d[key], 1.0), (var, -1.0)], pulp.LpConstraintLE, 0.0)

    def _knowledge_rows(self) -> None:
        """(6): sum_j C[i,j,m,t] <= D[i,m,t] (C[i,j,m,t] <= D[i,m,t] for a product of size 0)."""
        sending: dict[tuple, Row] = defaultdict(list)
        for (i, j, m, t), var in self.c.items():
            instant = self.transfer_end[(i, j, m, t)] == t
            sending[(i, m, t, j) if instant else (i, m, t)].append((var, 1.0))
        for key, row in sending.items():
            self._add(row + [(self.d[key[:3]], -1.0)], pulp.LpConstraintLE, 0.0)

    def _makespan_rows(self) -> None:
        """(8), when the makespan is weighted: Z[s] >= the starts of each task that end at s or later,
        and Z[s] >= Z[s+1]."""
        ending: dict[tuple[int, int], Row] = defaultdict(list)
        for (i, m, t), var in self.x.items():
            ending[(m, t + int(self.durations[m, i]))].append((var, -1.0))
        for m in range(len(self.p.tasks)):
            row: Row = []
            for s in range(self.n, self.makespan_bound, -1):
                row = row + ending.get((m, s), [])
                if row:
                    self._add([(self.late[s], 1.0)] + row, pulp.LpConstraintGE, 0.0)
        for s in range(self.makespan_bound + 1, self.n):
            self._add([(self.late[s], 1.0), (self.late[s + 1], -1.0)], pulp.LpConstraintGE, 0.0)

    def _objective(self) -> None:
        """Reward, energy and tie-break terms, plus the makespan term w_t * M when weighted (all
        scaled as MOSAIC scales them: the tie-break by w_r, tv 1604-1608)."""
        p, w = self.p, self.p.weights
        for (i, m, t), var in self.x.items():
            task = p.tasks[m]
            reward = p.reward[task] if p.optional[task] else 0.0
            self.objective[var] += -w.reward * reward + w.energy * p.energy_cost[task].get(p.agents[i], 0.0)
        energy_tables: dict[tuple[Link, int], np.ndarray] = {}
        for (i, j, m, t), var in self.c.items():
            key = ((p.agents[i], p.agents[j]), m)
            if key not in energy_tables:
                link, size = self.links[key[0]], p.product_size[p.tasks[m]]
                energy_tables[key] = link.packet_energy() if p.packet_comms else link.transfer_energy(size)
            self.objective[var] += w.reward * TRANSFER_TIE_BREAK + w.energy * float(energy_tables[key][t])
        for var in self.late.values():
            self.objective[var] += w.makespan * p.step
        self.lp.setObjective(pulp.LpAffineExpression(self.objective))

    def build(self) -> TimeVaryingModel:
        self._variables()
        reason = self._task_rows()
        if reason is None:
            self._dependency_rows()
            self._capacity_rows()
            self._learning_rows()
            self._knowledge_rows()
            if self.late:
                self._makespan_rows()
            if self.late and self.p.weights.energy >= 0:
                self._workload_rows()
            self._objective()
        return TimeVaryingModel(
            problem=self.p, lp=self.lp, x=self.x, c=self.c, d=self.d, k=self.k, late=self.late,
            makespan_bound=self.makespan_bound, durations=self.durations, transfer_end=self.transfer_end,
            links=self.links, infeasible_reason=reason)
