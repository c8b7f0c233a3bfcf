"""The time-invariant MOSAIC allocator (the "ti" model), for networks with periodic connectivity.

Everything is averaged over the horizon H: the product of p streams at PB[p] = size[p] / H bits/s; task
m costs agent i the average load L[m,i] = load[m,i] * ComputationTime[m][i] / H; link (i,j) offers the
average bandwidth bw(i,j), latency lat(i,j) and energy per bit e(i,j) of `links.average_links`.
Indices: agents i, j, k; dependency pairs (p, c), p a prerequisite of child c. Variables:

- X[i,m] in {0,1}: agent i runs m;
- C[i,j,p,c] in [0, PB[p]]: flow of p's product for c over link (i,j);
- B[i,j,p] in [0, bw(i,j)]: bandwidth p's product uses on (i,j) (shared by all its children).

Constraints:

  (1) required task: sum_i X[i,m] = 1; optional task: sum_i X[i,m] <= 1; incompatible groups <= 1;
  (2) precedence: sum_i X[i,c] <= sum_i X[i,p] (dropped when some agent initially holds p);
  (3) flow conservation at agent j for each pair (p,c):
      PB[p] (X[j,p] + II[p][j]) - PB[p] X[j,c] + sum_i C[i,j,p,c] - sum_k C[j,k,p,c] >= 0;
  (4) shared data is sent once: C[i,j,p,c] <= B[i,j,p];
  (5) link capacity: sum_p B[i,j,p] <= bw(i,j)   (the published implementation omits this);
  (6) CPU of agent j: sum_m L[m,j] X[j,m] + sum_i LinkLoadIn[i][j] sum_p B[i,j,p] / bw(i,j)
      + sum_k LinkLoadOut[j][k] sum_p B[j,k,p] / bw(j,k) <= MaxComputationLoad[j];
      a link load is the CPU load while the link runs at full rate, scaled by the fraction of the
      link's capacity in use (the published code divides it by H instead, which mixes units);
  (7) latency of each dependency with a MaxLatency: sum_{(i,j)} C[i,j,p,c] / PB[p]
      * (lat(i,j) + size[p] / bw(i,j)) <= MaxLatency[c][p].

Objective (minimise): w_r * (-sum_{optional m} reward[m] X) + w_e * (sum energy[m][i] X[i,m]
+ H * sum_{i,j} e(i,j) sum_p B[i,j,p]) + 0.001 * sum C / PB (a tie-break of 0.001 per product hop).
There is no timeline, so the makespan weight does not apply. Only single-task CNF clauses are
accepted: an OR-dependency raises `ProblemError` naming the clause.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import pulp

from dro_ros.scheduling.links import Link, average_links
from dro_ros.scheduling.problem import Problem, ProblemError
from dro_ros.scheduling.schedule import Compute, Schedule, Transfer, make_schedule

HOP_TIE_BREAK = 1e-3
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


def build(problem: Problem) -> TimeInvariantModel:
    """Build the TI MILP of `problem` (see the module docstring for the equations)."""
    pairs = _dependency_pairs(problem)
    horizon, w = problem.horizon, problem.weights
    links = average_links(problem)
    rate = {t: problem.product_size[t] / horizon for t in problem.tasks}
    lp = pulp.LpProblem("mosaic_ti", pulp.LpMinimize)
    objective: dict[pulp.LpVariable, float] = defaultdict(float)

    x = {}
    for m, task in enumerate(problem.tasks):
        for i, agent in enumerate(problem.agents):
            seconds = problem.computation_time[task].get(agent)
            if seconds is None or seconds > horizon:
                continue
            if problem.computation_load[task][agent] * seconds / horizon > problem.max_load[agent] + 1e-9:
                continue
            var = lp.add_variable(f"x_{i}_{m}", cat=pulp.LpBinary)
            x[(agent, task)] = var
            reward = problem.reward[task] if problem.optional[task] else 0.0
            objective[var] += -w.reward * reward + w.energy * problem.energy_cost[task].get(agent, 0.0)

    flowing = [(p, c) for p, c in pairs if rate[p] > 0]
    b: dict[tuple[str, str, str], pulp.LpVariable] = {}
    c_vars: dict[tuple[str, str, str, str], pulp.LpVariable] = {}
    agent_ix = {a: i for i, a in enumerate(problem.agents)}
    task_ix = {t: m for m, t in enumerate(problem.tasks)}
    for (i, j), link in links.items():
        for p in dict.fromkeys(p for p, _ in flowing):
            var = lp.add_variable(f"b_{agent_ix[i]}_{agent_ix[j]}_{task_ix[p]}", 0, link.bandwidth)
            b[(i, j, p)] = var
            objective[var] += w.energy * horizon * link.energy_per_bit
        for p, child in flowing:
            name = f"c_{agent_ix[i]}_{agent_ix[j]}_{task_ix[p]}_{task_ix[child]}"
            var = lp.add_variable(name, 0, rate[p])
            c_vars[(i, j, p, child)] = var
            objective[var] += HOP_TIE_BREAK / rate[p]

    def add(row: list[tuple[pulp.LpVariable, float]], sense: int, rhs: float) -> None:
        lp.addConstraint(pulp.LpConstraint(pulp.LpAffineExpression(row), sense, rhs=rhs))

    # (1) tasks and incompatible groups
    by_task: dict[str, list[tuple[pulp.LpVariable, float]]] = defaultdict(list)
    for (agent, task), var in x.items():
        by_task[task].append((var, 1.0))
    for task in problem.tasks:
        if not problem.optional[task]:
            if not by_task[task]:
                reason = f"required task {task!r} has no agent that can run it within its capacity"
                return TimeInvariantModel(problem, lp, x, c_vars, b, reason)
            add(by_task[task], pulp.LpConstraintEQ, 1.0)
        elif len(by_task[task]) > 1:
            add(by_task[task], pulp.LpConstraintLE, 1.0)
    for group in problem.incompatible:
        row = [pair for task in dict.fromkeys(group) for pair in by_task[task]]
        if len(row) > 1:
            add(row, pulp.LpConstraintLE, 1.0)

    # (2) precedence
    for p, child in pairs:
        if not any(problem.initial_information[p].values()) and by_task[child]:
            add(by_task[child] + [(var, -1.0) for var, _ in by_task[p]], pulp.LpConstraintLE, 0.0)

    # (3) flow conservation
    inflow: dict[tuple[str, str, str], list[pulp.LpVariable]] = defaultdict(list)
    outflow: dict[tuple[str, str, str], list[pulp.LpVariable]] = defaultdict(list)
    for (i, j, p, child), var in c_vars.items():
        outflow[(i, p, child)].append(var)
        inflow[(j, p, child)].append(var)
    for p, child in flowing:
        for agent in problem.agents:
            row = [(var, 1.0) for var in inflow[(agent, p, child)]]
            row += [(var, -1.0) for var in outflow[(agent, p, child)]]
            if (agent, p) in x:
                row.append((x[(agent, p)], rate[p]))
            if (agent, child) in x:
                row.append((x[(agent, child)], -rate[p]))
            source = rate[p] if problem.initial_information[p].get(agent, False) else 0.0
            if any(coef < 0 for _, coef in row):
                add(row, pulp.LpConstraintGE, -source)

    # (4) shared data sent once, (5) link capacity
    for (i, j, p, child), var in c_vars.items():
        add([(var, 1.0), (b[(i, j, p)], -1.0)], pulp.LpConstraintLE, 0.0)
    per_link: dict[Link, list[pulp.LpVariable]] = defaultdict(list)
    for (i, j, p), var in b.items():
        per_link[(i, j)].append(var)
    for link_key, variables in per_link.items():
        if len(variables) > 1:
            add([(var, 1.0) for var in variables], pulp.LpConstraintLE, links[link_key].bandwidth)

    # (6) CPU
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
                row += [(var, load / links[(i, j)].bandwidth) for var in variables]
        if row:
            add(row, pulp.LpConstraintLE, problem.max_load[agent])

    # (7) latency
    for p, child in flowing:
        limit = problem.max_latency[child].get(p)
        if limit is None:
            continue
        row = [(var, (links[(i, j)].latency + problem.product_size[p] / links[(i, j)].bandwidth) / rate[p])
               for (i, j, q, c), var in c_vars.items() if q == p and c == child]
        if row:
            add(row, pulp.LpConstraintLE, limit)

    lp.setObjective(pulp.LpAffineExpression(objective))
    return TimeInvariantModel(problem, lp, x, c_vars, b, None)


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
