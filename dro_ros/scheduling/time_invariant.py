"""The time-invariant MOSAIC allocator (the "ti" model), for networks with periodic connectivity.

The model MOSAIC's TI `JSONSolver` builds (`/work/shared/mosaic/SEMANTICS.md` section 2, ti = its
MOSAICTISolver.py), with `Semantics` deciding the one published defect (the per-link sum (5)).
Everything is averaged over the horizon H: the product of p streams at PB[p] = size[p] / H bits/s; task
m costs agent i the average load L[m,i] = load[m,i] * ComputationTime[m][i] / H; link (i,j) offers the
average bandwidth bw(i,j), latency lat(i,j) and energy per bit e(i,j) of `links.average_links`.
Indices: agents i, j, k; dependency pairs (p, c), p a prerequisite of child c. Variables (ti 1011-1070):

- X[i,m] in {0,1}: agent i runs m (only where L[m,i] fits MaxComputationLoad[i]);
- C[i,j,p,c] in [0, bw(i,j)]: flow of p's product for c over link (i,j);
- B[i,j,p] in [0, bw(i,j)]: bandwidth p's product uses on (i,j) (shared by all its children).

Constraints (ti 1121-1189):

  (1) required task: sum_i X[i,m] >= 1; every task: sum_i X[i,m] <= 1;
  (2) flow at agent j for each pair (p,c), which is also the precedence:
      PB[p] X[j,p] - PB[p] X[j,c] + sum_i C[i,j,p,c] - sum_k C[j,k,p,c] >= 0;
  (3) shared data is sent once: C[i,j,p,c] <= B[i,j,p];
  (4) CPU of agent j: sum_m L[m,j] X[j,m] + sum_{i,p} LinkLoadIn[i][j] / H * B[i,j,p]
      + sum_{k,p} LinkLoadOut[j][k] / H * B[j,k,p] <= MaxComputationLoad[j];
  (5) link capacity, where `Semantics.bounds_link_sum`: sum_p B[i,j,p] <= bw(i,j) (the published
      allocator bounds each B alone, so several products may each use the whole link);
  (6) latency of each dependency with a MaxLatency (and PB > 0):
      sum_{(i,j)} C[i,j,p,c] / PB[p] * (lat(i,j) + size[p] / bw(i,j)) <= MaxLatency[c][p].

Objective (minimise; MOSAIC's `Fval`): w_r * (-sum_{optional m} reward[m] X + 1e-8 * sum C)
+ w_e * (sum energy[m][i] X[i,m] + sum_{i,j,p} e(i,j) * bw(i,j) * B[i,j,p]).
As in MOSAIC, the allocator reads neither `IncompatibleTasks`, `InitialInformation` nor the makespan
weight, and a product of size 0 constrains nothing. Only single-task CNF clauses are accepted: an
OR-dependency raises `ProblemError` naming the clause (MOSAIC asserts).
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import pulp

from dro_ros.scheduling.links import Link, average_links
from dro_ros.scheduling.problem import Problem, ProblemError
from dro_ros.scheduling.schedule import Compute, Schedule, Transfer, make_schedule
from dro_ros.scheduling.semantics import Semantics

FLOW_TIE_BREAK = 1e-8
FLOW_EPSILON = 1e-9

Pair = tuple[str, str]


@dataclass
class TimeInvariantModel:
    """A built TI model: the PuLP problem and its variables keyed by names."""

    problem: Problem
    lp: pulp.LpProblem
    x: dict[tuple[str, str], pulp.LpVariable]
    c: dict[tuple[str, str, str, str], pulp.LpVariable]
    b: dict[tuple[str, str, str], pulp.LpVariable]
    infeasible_reason: str | None

    def schedule(self) -> Schedule:
        """Assignments and average flows in the variables' current values (after a solve)."""
        computes = [Compute(m, i, None, None) for (i, m), var in self.x.items() if (var.varValue or 0) > 0.5]
        transfers = [Transfer(p, i, j, None, None, float(var.varValue), child=c)
                     for (i, j, p, c), var in self.c.items()
                     if (var.varValue or 0.0) > FLOW_EPSILON * max(1.0, var.upBound or 1.0)]
        return make_schedule(computes, transfers)

    def start_values(self, schedule: Schedule) -> dict[pulp.LpVariable, float]:
        """A MIP start from `schedule`: X from its computations, C from its flows, B = max_c C."""
        values = {var: 0.0 for var in self.lp.variables()}
        for entry in schedule.computes:
            if (entry.agent, entry.task) in self.x:
                values[self.x[(entry.agent, entry.task)]] = 1.0
        for entry in schedule.transfers:
            key = (entry.sender, entry.receiver, entry.product, entry.child or "")
            if key in self.c:
                values[self.c[key]] = entry.bandwidth
                shared = self.b[key[:3]]
                values[shared] = max(values[shared], entry.bandwidth)
        return values


def build(problem: Problem, semantics: Semantics = Semantics.FIXED) -> TimeInvariantModel:
    """Build the TI MILP of `problem` (see the module docstring for the equations)."""
    pairs = _dependency_pairs(problem)
    max_latency = check_max_latency(problem, pairs)
    horizon, w = problem.horizon, problem.weights
    links = average_links(problem)
    rate = {t: problem.product_size[t] / horizon for t in problem.tasks}
    lp = pulp.LpProblem("mosaic_ti", pulp.LpMinimize)
    objective: dict[pulp.LpVariable, float] = defaultdict(float)
    agent_ix = {a: i for i, a in enumerate(problem.agents)}
    task_ix = {t: m for m, t in enumerate(problem.tasks)}

    x = {}
    for m, task in enumerate(problem.tasks):
        for agent, seconds in problem.computation_time[task].items():
            load = problem.computation_load[task].get(agent)
            if load is None or load * seconds / horizon > problem.max_load[agent] + 1e-9:
                continue
            var = lp.add_variable(f"x_{agent_ix[agent]}_{m}", cat=pulp.LpBinary)
            x[(agent, task)] = var
            reward = problem.reward[task] if problem.optional[task] else 0.0
            objective[var] += -w.reward * reward + w.energy * problem.energy_cost[task].get(agent, 0.0)

    products = list(dict.fromkeys(p for p, _ in pairs))
    b: dict[tuple[str, str, str], pulp.LpVariable] = {}
    c_vars: dict[tuple[str, str, str, str], pulp.LpVariable] = {}
    for (i, j), link in links.items():
        for p in products:
            var = lp.add_variable(f"b_{agent_ix[i]}_{agent_ix[j]}_{task_ix[p]}", 0, link.bandwidth)
            b[(i, j, p)] = var
            objective[var] += w.energy * link.energy_per_bit * link.bandwidth
        for p, child in pairs:
            var = lp.add_variable(f"c_{agent_ix[i]}_{agent_ix[j]}_{task_ix[p]}_{task_ix[child]}",
                                  0, link.bandwidth)
            c_vars[(i, j, p, child)] = var
            objective[var] += w.reward * FLOW_TIE_BREAK

    def add(row: list[tuple[pulp.LpVariable, float]], sense: int, rhs: float) -> None:
        lp.addConstraint(pulp.LpConstraint(pulp.LpAffineExpression(row), sense, rhs=rhs))

    # (1) tasks
    by_task: dict[str, list[tuple[pulp.LpVariable, float]]] = defaultdict(list)
    for (agent, task), var in x.items():
        by_task[task].append((var, 1.0))
    for task in problem.tasks:
        if not problem.optional[task]:
            if not by_task[task]:
                reason = f"required task {task!r} has no agent that can run it within its capacity"
                return TimeInvariantModel(problem, lp, x, c_vars, b, reason)
            add(by_task[task], pulp.LpConstraintGE, 1.0)
        if len(by_task[task]) > 1:
            add(by_task[task], pulp.LpConstraintLE, 1.0)

    # (2) flow and precedence
    inflow: dict[tuple[str, str, str], list[pulp.LpVariable]] = defaultdict(list)
    outflow: dict[tuple[str, str, str], list[pulp.LpVariable]] = defaultdict(list)
    for (i, j, p, child), var in c_vars.items():
        outflow[(i, p, child)].append(var)
        inflow[(j, p, child)].append(var)
    for p, child in pairs:
        for agent in problem.agents:
            row = [(var, 1.0) for var in inflow[(agent, p, child)]]
            row += [(var, -1.0) for var in outflow[(agent, p, child)]]
            if (agent, p) in x:
                row.append((x[(agent, p)], rate[p]))
            if (agent, child) in x:
                row.append((x[(agent, child)], -rate[p]))
            if any(coef < 0 for _, coef in row):
                add(row, pulp.LpConstraintGE, 0.0)

    # (3) shared data sent once, (5) link capacity
    for (i, j, p, child), var in c_vars.items():
        add([(var, 1.0), (b[(i, j, p)], -1.0)], pulp.LpConstraintLE, 0.0)
    per_link: dict[Link, list[pulp.LpVariable]] = defaultdict(list)
    for (i, j, p), var in b.items():
        per_link[(i, j)].append(var)
    if semantics.bounds_link_sum:
        for link_key, variables in per_link.items():
            if len(variables) > 1:
                add([(var, 1.0) for var in variables], pulp.LpConstraintLE, links[link_key].bandwidth)

    # (4) CPU
    for agent in problem.agents:
        row = [(var, problem.computation_load[task][agent] * problem.computation_time[task][agent] / horizon)
               for (a, task), var in x.items() if a == agent]
        for (i, j), variables in per_link.items():
            load = 0.0
            if j == agent:
                load += problem.link_load_in.get(i, {}).get(j, 0.0)
            if i == agent:
                load += problem.link_load_out.get(i, {}).get(j, 0.0)
            if load > 0:
                row += [(var, load / horizon) for var in variables]
        if row:
            add(row, pulp.LpConstraintLE, problem.max_load[agent])

    # (6) latency
    for p, child in pairs:
        limit = max_latency[child].get(p)
        if limit is None or rate[p] == 0:
            continue
        row = [(var, (links[(i, j)].latency + problem.product_size[p] / links[(i, j)].bandwidth) / rate[p])
               for (i, j, q, c), var in c_vars.items() if q == p and c == child]
        if row:
            add(row, pulp.LpConstraintLE, limit)

    lp.setObjective(pulp.LpAffineExpression(objective))
    return TimeInvariantModel(problem, lp, x, c_vars, b, None)


def check_max_latency(problem: Problem, pairs: list[Pair]) -> dict[str, dict[str, float]]:
    """`Tasks.MaxLatency` as MOSAIC's TI `JSONSolver` takes it (`SEMANTICS.md` 2.1, ti 95-106): the field
    is required; after dropping empty entries, its children are exactly the tasks with prerequisites and
    each child's parents exactly its prerequisites. Anything else raises `ProblemError` naming the field
    (MOSAIC raises KeyError or fails an assertion)."""
    if problem.max_latency is None:
        raise ProblemError("Tasks.MaxLatency", "missing: the time-invariant model needs a latency bound "
                           "{child: {prerequisite: seconds}} for every dependency (MOSAIC requires the field; "
                           "give {} when no task has prerequisites)")
    prerequisites: dict[str, set[str]] = defaultdict(set)
    for parent, child in pairs:
        prerequisites[child].add(parent)
    for child in problem.tasks:
        given, wanted = set(problem.max_latency[child]), prerequisites.get(child, set())
        if given != wanted:
            missing, extra = sorted(wanted - given), sorted(given - wanted)
            detail = "; ".join(part for part in (f"no bound for {missing}" if missing else "",
                                                 f"{extra} not among its prerequisites" if extra else "") if part)
            raise ProblemError(f"Tasks.MaxLatency.{child}", f"expected a bound for each prerequisite of "
                               f"{child!r} ({sorted(wanted)}) and no other: {detail}")
    return {child: dict(bounds) for child, bounds in problem.max_latency.items()}


def _dependency_pairs(problem: Problem) -> list[Pair]:
    """(prerequisite, child) pairs; raises `ProblemError` on an OR-clause (more than one task)."""
    pairs = []
    for child in problem.tasks:
        for clause in problem.dependencies[child]:
            if len(clause) > 1:
                raise ProblemError(
                    f"Tasks.DependencyList.{child}",
                    f"the time-invariant model accepts one task per clause (no OR-dependencies), "
                    f"got the clause {list(clause)}; use the time-varying model (--model tv)")
            pairs.append((clause[0], child))
    return list(dict.fromkeys(pairs))
