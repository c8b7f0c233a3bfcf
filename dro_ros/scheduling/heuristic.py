"""A greedy list scheduler for the TV model, used as the default MIP start.

It schedules tasks one at a time, highest upward rank first (the longest chain of minimum durations
from the task to the end of its dependency tree, as in HEFT), once every clause of the task has a
prerequisite done or initially held. For each capable agent it routes each clause's fastest
prerequisite to the agent with an earliest-arrival search over the transfers the model allows (a
transfer needs both agents idle while it runs), then takes the earliest compute slot with enough
capacity; the agent with the earliest finish wins, or, by the other placement rule, the agent that
adds least to the objective (its task energy, its transfers' terms and the makespan term beyond the
current makespan), ties to the earlier finish (in packet mode it only sends products that fit in one
step's packet). An optional task is kept only if its reward, plus the rewards of the optional tasks
that need it, outweighs what it adds to the objective. It only ever
uses variables that exist in the model, so its schedule is a feasible MIP start whenever it places
every required task; otherwise it returns None and the solver starts from scratch.

The order matters: one list schedule can leave a late task waiting for a busy agent, which costs
makespan. With `restarts`, an iterated local search over the ranks follows: each restart scales the
ranks of the best order so far by seeded random factors in [1 - RANK_NOISE, 1 + RANK_NOISE], schedules
with the next placement rule (odd restarts by added objective, even ones by finish), and keeps the new
order if its schedule has a lower model objective. Neither rule wins everywhere: by finish is
better with a makespan weight, by added objective without one (`dro-ros bench mosaic`).
"""
from __future__ import annotations

import copy
import heapq
import random
import threading
from bisect import bisect_left
from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np

from dro_ros.scheduling.schedule import Compute, Schedule, Transfer, make_schedule
from dro_ros.scheduling.time_varying import TimeVaryingModel

EPS = 1e-9
RANK_NOISE = 0.3


@dataclass
class _State:
    """Capacity left per agent and step, and the first step each agent holds each product."""

    free: np.ndarray
    hold: dict[tuple[int, int], int]
    computes: list[tuple[int, int, int]] = field(default_factory=list)
    transfers: list[tuple[int, int, int, int]] = field(default_factory=list)


def greedy_schedule(model: TimeVaryingModel, restarts: int = 0, seed: int = 0,
                    cancel: threading.Event | None = None) -> Schedule | None:
    """A feasible schedule of `model` built greedily, the best of the plain rank order and `restarts`
    perturbed ones (fewer once `cancel` is set), or None if no order placed every required task. The
    restarts alternate the two placement rules of `_Greedy._best_placement`."""
    greedy = _Greedy(model)
    rank, rng = greedy.rank, random.Random(seed)
    best, best_value = None, float("inf")
    for restart in range(restarts + 1):
        if restart > 0 and cancel is not None and cancel.is_set():
            break
        if restart > 0:
            greedy.rank = [r * rng.uniform(1 - RANK_NOISE, 1 + RANK_NOISE) for r in rank]
        greedy.by_cost = restart % 2 == 1
        schedule = greedy.run()
        value = model.objective_value(schedule) if schedule is not None else float("inf")
        if value < best_value - EPS:
            best, best_value, rank = schedule, value, greedy.rank
    return best


class _Greedy:
    def __init__(self, model: TimeVaryingModel) -> None:
        self.model = model
        self.p = model.problem
        self.n = self.p.n_steps
        self.starts: dict[tuple[int, int], list[int]] = defaultdict(list)
        for (i, m, t) in sorted(model.x):
            self.starts[(i, m)].append(t)
        self.sends: dict[tuple[int, int], list[tuple[int, int, int]]] = defaultdict(list)
        for (i, j, m, t) in sorted(model.c, key=lambda key: key[3]):
            if self.p.packet_comms and not self._whole_packet(i, j, m, t):
                continue
            self.sends[(i, m)].append((t, j, model.transfer_end[(i, j, m, t)]))
        self.clauses = [[[self.p.tasks.index(q) for q in clause] for clause in self.p.dependencies[task]]
                        for task in self.p.tasks]
        self.children: dict[int, list[int]] = defaultdict(list)
        for m, clauses in enumerate(self.clauses):
            for clause in clauses:
                for q in clause:
                    self.children[q].append(m)
        self.rank = self._ranks()
        self.value = self._values()
        self.objective = model.lp.objective
        self.by_cost = False

    def _whole_packet(self, i: int, j: int, m: int, t: int) -> bool:
        """Packet mode: the greedy only sends products that fit in one step's packet."""
        bits = self.model.links[(self.p.agents[i], self.p.agents[j])].bits[t]
        return bits >= self.p.product_size[self.p.tasks[m]] - EPS

    def _ranks(self) -> list[float]:
        shortest = self.model.durations.min(axis=1).astype(float)
        rank = [0.0] * len(self.p.tasks)
        for _ in range(len(self.p.tasks)):
            rank = [shortest[m] + max((rank[c] for c in self.children[m]), default=0.0)
                    for m in range(len(self.p.tasks))]
        return rank

    def _values(self) -> list[float]:
        """Reward of a task plus the rewards of the optional tasks downstream of it."""
        own = [self.p.reward[t] if self.p.optional[t] else 0.0 for t in self.p.tasks]
        value = list(own)
        for _ in range(len(self.p.tasks)):
            value = [own[m] + sum(value[c] for c in self.children[m] if self.p.optional[self.p.tasks[c]])
                     for m in range(len(self.p.tasks))]
        return value

    def run(self) -> Schedule | None:
        hold = {(i, m): 0 for i, agent in enumerate(self.p.agents) for m, task in enumerate(self.p.tasks)
                if self.p.initial_information[task].get(agent, False)}
        state = _State(free=np.ones((len(self.p.agents), self.n)), hold=hold)
        done: set[int] = set()
        blocked: set[int] = set()
        pending = set(range(len(self.p.tasks)))
        makespan = 0
        while True:
            ready = [m for m in pending if all(any(q in done or any(k[1] == q for k in state.hold)
                                                   for q in clause) for clause in self.clauses[m])]
            ready = [m for m in ready if not self._incompatible_with(m, done)]
            if not ready:
                break
            m = max(ready, key=lambda k: (self.rank[k], -k))
            pending.discard(m)
            best = self._best_placement(state, m, makespan)
            task = self.p.tasks[m]
            if best is None:
                if not self.p.optional[task]:
                    return None
                blocked.add(m)
                continue
            finish, cost, trial = best
            if self.p.optional[task] and self.p.weights.reward * self.value[m] - cost <= 0:
                continue
            state = trial
            done.add(m)
            makespan = max(makespan, finish)
        if any(not self.p.optional[self.p.tasks[m]] for m in pending | blocked):
            return None
        return self._schedule(state)

    def _incompatible_with(self, m: int, done: set[int]) -> bool:
        task = self.p.tasks[m]
        return any(task in group and any(self.p.tasks[k] in group for k in done if k != m)
                   for group in self.p.incompatible)

    def _best_placement(self, state: _State, m: int, makespan: int) -> tuple[int, float, _State] | None:
        """The agent, routes and slot for task m: the earliest finish, or with `self.by_cost` the least
        added objective (task and transfer terms, and the makespan term past `makespan`), ties to the
        earlier finish. Returns (finish, added objective, state after it)."""
        best = None
        for i in range(len(self.p.agents)):
            if not self.starts.get((i, m)):
                continue
            trial = copy.deepcopy(state)
            ready = 0
            sent = len(trial.transfers)
            for clause in self.clauses[m]:
                arrival = min(((self._route(trial, q, i, commit=False), q) for q in clause),
                              key=lambda pair: pair[0][0])
                (when, _), q = arrival
                if when > self.n:
                    break
                self._route(trial, q, i, commit=True)
                ready = max(ready, when)
            else:
                start = self._compute_slot(trial, i, m, ready)
                if start is None:
                    continue
                finish = start + int(self.model.durations[m, i])
                task, agent = self.p.tasks[m], self.p.agents[i]
                w = self.p.weights
                cost = (w.energy * self.p.energy_cost[task].get(agent, 0.0)
                        + sum(self.objective.get(self.model.c[key], 0.0) for key in trial.transfers[sent:])
                        + w.makespan * self.p.step * max(0, finish - makespan) * bool(self.model.late))
                rule = (cost, finish) if self.by_cost else (finish, cost)
                if best is None or rule < best_rule:
                    trial.free[i, start:finish] -= self.p.computation_load[task][agent]
                    trial.computes.append((i, m, start))
                    if m in self.children:
                        trial.hold[(i, m)] = min(trial.hold.get((i, m), self.n + 1), finish)
                    best, best_rule = (finish, cost, trial), rule
        return best

    def _compute_slot(self, state: _State, i: int, m: int, ready: int) -> int | None:
        task, agent = self.p.tasks[m], self.p.agents[i]
        load, d = self.p.computation_load[task][agent], int(self.model.durations[m, i])
        starts = self.starts[(i, m)]
        for t in starts[bisect_left(starts, ready):]:
            if np.all(state.free[i, t:t + d] >= load - EPS):
                return t
        return None

    def _route(self, state: _State, q: int, target: int, commit: bool) -> tuple[int, list]:
        """Earliest step `target` can hold product q, and the transfers (sender, receiver, start)
        that bring it there; with `commit` the transfers are reserved in `state`."""
        arrival = {i: h for (i, k), h in state.hold.items() if k == q}
        if target in arrival:
            return arrival[target], []
        parent: dict[int, tuple[int, int]] = {}
        queue = [(h, i) for i, h in arrival.items()]
        heapq.heapify(queue)
        settled: set[int] = set()
        while queue:
            h, u = heapq.heappop(queue)
            if u in settled:
                continue
            settled.add(u)
            if u == target:
                break
            for t, v, end in self.sends.get((u, q), ()):
                if t < h or v in settled or end >= arrival.get(v, self.n + 1):
                    continue
                if np.all(state.free[u, t:end] >= 1 - EPS) and np.all(state.free[v, t:end] >= 1 - EPS):
                    arrival[v] = end
                    parent[v] = (u, t)
                    heapq.heappush(queue, (end, v))
        if target not in arrival:
            return self.n + 1, []
        path = []
        v = target
        while v in parent:
            u, t = parent[v]
            path.append((u, v, t))
            v = u
        if commit:
            for u, v, t in reversed(path):
                end = self.model.transfer_end[(u, v, q, t)]
                state.free[u, t:end] -= 1.0
                state.free[v, t:end] -= 1.0
                state.transfers.append((u, v, q, t))
                state.hold[(v, q)] = min(state.hold.get((v, q), self.n + 1), end)
        return arrival[target], path

    def _schedule(self, state: _State) -> Schedule:
        p, dt = self.p, self.p.step
        computes = [Compute(p.tasks[m], p.agents[i], t * dt, int(self.model.durations[m, i]) * dt)
                    for i, m, t in state.computes]
        transfers = []
        for u, v, q, t in state.transfers:
            link = self.model.links[(p.agents[u], p.agents[v])]
            transfers.append(Transfer(p.tasks[q], p.agents[u], p.agents[v], t * dt,
                                      (self.model.transfer_end[(u, v, q, t)] - t) * dt,
                                      float(link.bits[t]) / dt))
        return make_schedule(computes, transfers)
