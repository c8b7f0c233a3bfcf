"""Seeded MOSAIC problems in the spirit of the published rover examples.

A fleet of rovers, assisting nodes (helpers) and one base station on a 10 m x 10 m field:

- every rover has a required chain image -> localize -> plan -> drive; only the rover itself can take
  its image and drive, while localize and plan run faster on a helper and fastest on the base station;
- some rovers (chosen by the seed) have optional sampling chains sample -> analyse -> store with
  rewards 5, 10 and 20; only the base station can store;
- links follow distance (11, 5.5 or 1 bit/s, none beyond 9 m), in both directions; rover links are
  contact windows that may open late or close early, base-helper links are always up;
- windows carry `info_time` 1000 s, so schedule times are relative to it.

Every rover can finish its required chain on its own, so each generated problem is feasible.
`SCENARIOS` names the benchmark set: 3 and 9 agents, 30 and 40 steps of 1 s, weighing reward and
energy; two 9-agent variants also weigh the makespan (0.1 per second).
"""
from __future__ import annotations

import math
import random
from typing import Any

INFO_TIME = 1000.0
FIELD = 10.0
NEVER = 1e6

# seconds on (rover, helper, base); None = cannot
CHAIN = {
    "image": ((2, None, None), 8.0, 0.5),
    "localize": ((5, 3, 1), 0.5, 1.0),
    "plan": ((4, 2, 1), 0.2, 1.0),
    "drive": ((1, None, None), 0.1, 0.5),
}
SAMPLING = {
    "sample": ((3, None, None), 15.0, 1.0, 5.0),
    "analyse": ((5, 3, 2), 1.0, 1.0, 10.0),
    "store": ((None, None, 1), 0.1, 0.5, 20.0),
}
ENERGY_PER_SECOND = {"rover": 0.05, "helper": 0.02, "base": 0.0}
BASE_LOAD = 0.5

SCENARIOS: dict[str, dict[str, Any]] = {
    "rovers3_30": {"n_agents": 3, "n_steps": 30, "seed": 3},
    "rovers3_40": {"n_agents": 3, "n_steps": 40, "seed": 4},
    "rovers9_30": {"n_agents": 9, "n_steps": 30, "seed": 9},
    "rovers9_40": {"n_agents": 9, "n_steps": 40, "seed": 10},
    "rovers9_30_makespan": {"n_agents": 9, "n_steps": 30, "seed": 9, "makespan_weight": 0.1},
    "rovers9_40_makespan": {"n_agents": 9, "n_steps": 40, "seed": 10, "makespan_weight": 0.1},
}


def scenario(name: str) -> dict[str, Any]:
    """The named benchmark problem (see `SCENARIOS`), as a MOSAIC JSON object."""
    return generate(**SCENARIOS[name])


def generate(n_agents: int = 9, n_steps: int = 30, step: float = 1.0, seed: int = 0,
             n_sample_chains: int | None = None, makespan_weight: float = 0.0) -> dict[str, Any]:
    """A MOSAIC JSON problem: 1 base station, (n_agents - 1) // 4 helpers, the rest rovers.

    `n_sample_chains` defaults to 4 for 9 agents and 1 for 3 agents (about one per 1.25 rovers
    beyond the first), which gives 36 tasks for 9 agents. The cost function weighs reward and energy
    by 1 and the makespan by `makespan_weight` per second.
    """
    if n_agents < 2:
        raise ValueError("a scenario needs at least a base station and one rover")
    rng = random.Random(seed)
    n_helpers = (n_agents - 1) // 4
    rovers = [f"rover{k + 1}" for k in range(n_agents - 1 - n_helpers)]
    helpers = [f"helper{k + 1}" for k in range(n_helpers)]
    kind = {"base": "base", **{r: "rover" for r in rovers}, **{h: "helper" for h in helpers}}
    agents = list(kind)
    if n_sample_chains is None:
        n_sample_chains = max(1, round((len(rovers) - 1) / 1.25))

    tasks: dict[str, dict[str, Any]] = {}
    for rover in rovers:
        previous = None
        for name, (times, size, load) in CHAIN.items():
            tasks[f"{rover}:{name}"] = _task(times, size, load, 0.0, False, previous, rover, kind)
            previous = f"{rover}:{name}"
    for k in range(n_sample_chains):
        rover = rng.choice(rovers)
        previous = None
        for name, (times, size, load, reward) in SAMPLING.items():
            tasks[f"{rover}:{name}{k + 1}"] = _task(times, size, load, reward, True, previous, rover, kind)
            previous = f"{rover}:{name}{k + 1}"

    position = {"base": (FIELD / 2, FIELD / 2)}
    for h, helper in enumerate(helpers):
        angle = 2 * math.pi * h / max(1, len(helpers))
        position[helper] = (FIELD / 2 + 3 * math.cos(angle), FIELD / 2 + 3 * math.sin(angle))
    for rover in rovers:
        position[rover] = (rng.uniform(0, FIELD), rng.uniform(0, FIELD))
    horizon = n_steps * step
    windows = []
    for a in agents:
        for b in agents:
            if a >= b:
                continue
            bandwidth = _bandwidth(math.dist(position[a], position[b]))
            if bandwidth == 0:
                continue
            start, end = 0.0, NEVER
            if "rover" in (kind[a], kind[b]):
                if rng.random() < 0.4:
                    start = round(rng.uniform(0, horizon / 3))
                if rng.random() < 0.3:
                    end = round(rng.uniform(2 * horizon / 3, horizon))
            for origin, destination in ((a, b), (b, a)):
                windows.append({"origin": origin, "destination": destination, "bandwidth": bandwidth,
                                "time_start": INFO_TIME + start, "time_end": INFO_TIME + end,
                                "latency": 0.01, "energy_cost": 0.01, "info_time": INFO_TIME})

    return {
        "Time": {"Thor": horizon, "TimeStep": step},
        "Tasks": {
            "OptionalTasks": {t: v["optional"] for t, v in tasks.items()},
            "TaskReward": {t: v["reward"] for t, v in tasks.items()},
            "ProductsSize": {t: v["size"] for t, v in tasks.items()},
            "DependencyList": {t: v["deps"] for t, v in tasks.items()},
            "IncompatibleTasks": [],
            "MaxLatency": {t: {p[0]: horizon / 2 for p in v["deps"] if p} for t, v in tasks.items()},
        },
        "AgentCapabilities": {
            "ComputationTime": {t: v["time"] for t, v in tasks.items()},
            "ComputationLoad": {t: v["load"] for t, v in tasks.items()},
            "EnergyCost": {t: v["energy"] for t, v in tasks.items()},
            "InitialInformation": {t: {a: False for a in agents} for t in tasks},
            "MaxComputationLoad": {a: 1.0 for a in agents},
            "LinkComputationalLoadIn": {a: {b: 0.05 for b in agents if b != a} for a in agents},
            "LinkComputationalLoadOut": {a: {b: 0.05 for b in agents if b != a} for a in agents},
        },
        "CommunicationNetwork": windows,
        "Options": {"Packet Comms": False},
        "CostFunction": {"energy": 1.0, "total_task_reward": 1.0, "total_time": makespan_weight},
    }


def _task(times: tuple[int | None, ...], size: float, load: float, reward: float, optional: bool,
          previous: str | None, owner: str, kind: dict[str, str]) -> dict[str, Any]:
    """One task: who can run it in how long (the rover slot means its owner only)."""
    seconds = {}
    for agent, agent_kind in kind.items():
        slot = {"rover": 0, "helper": 1, "base": 2}[agent_kind]
        if times[slot] is not None and (agent_kind != "rover" or agent == owner):
            seconds[agent] = float(times[slot])
    return {
        "time": seconds,
        "load": {a: (BASE_LOAD if kind[a] == "base" else load) for a in seconds},
        "energy": {a: ENERGY_PER_SECOND[kind[a]] * s for a, s in seconds.items()},
        "size": size, "reward": reward, "optional": optional,
        "deps": [[previous]] if previous else [[]],
    }


def _bandwidth(distance: float) -> float:
    """bits/s by distance, after the published example's table."""
    if distance < 3.0:
        return 11.0
    if distance < 6.0:
        return 5.5
    if distance < 9.0:
        return 1.0
    return 0.0
