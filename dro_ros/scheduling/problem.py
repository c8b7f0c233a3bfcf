"""A MOSAIC scheduling problem: typed, validated, read from the MOSAIC JSON format.

`parse_problem(data)` turns the JSON object (see `/work/shared/references/MOSAIC_FORMAT.md`) into a
frozen `Problem`; `load_problem(path)` reads a file first. Every malformed input raises
`ProblemError`, a `ValueError` whose message starts with the path of the offending field, e.g.
``Tasks.ProductsSize.sample1: expected a non-negative number, got 'x'``. Unlike the published
implementation there are no asserts and no KeyErrors: a horizon that is not a whole number of steps is
an error (raised when the time-varying model asks for `n_steps`) that says which horizons would work,
and `info_time` is optional (the time-varying model under `Semantics.MOSAIC` requires it, as MOSAIC).

Accepted as MOSAIC's `JSONSolver`s accept it (`/work/shared/mosaic/SEMANTICS.md` 1.1, 2.1):
- `Time.TimeStep` may be null or absent (the time-invariant model never reads it);
- `IncompatibleTasks` may be `[]`, `{}` or absent (no group), or a list of groups; a non-empty
  object is an error (MOSAIC would iterate its keys character by character);
- `DependencyList` clauses `[]` and `[[]]` both mean "no prerequisite"; `EnergyCost` `{}` means zeros;
- `Options` and its `Packet Comms` are optional, a top-level `CostFunction` wins over
  `Options.CostFunction`, and keys MOSAIC does not read (e.g. `Options.cost`) are ignored.

Conventions (all maps are nested task first, then agent, as in the format):
- the task set is the keys of `Tasks.OptionalTasks` (if it is `{}`, as MOSAIC's TI allows: the keys of
  `ProductsSize`, every task required); `ProductsSize` and `ComputationTime` must cover it;
- `ComputationTime[task][agent]` is in seconds; an agent absent from the map cannot do the task;
  `ComputationLoad` must be given wherever an agent can do it within the horizon;
- `TaskReward`, `DependencyList`, `IncompatibleTasks`, `MaxLatency`, `InitialInformation`,
  `EnergyCost`, `MaxComputationLoad` (1.0), the link loads (0) and `CommunicationNetwork` are optional
  here; the time-invariant model requires `MaxLatency` with a bound for exactly the prerequisites of
  each child, as MOSAIC's TI `JSONSolver` (`time_invariant.check_max_latency`);
- `MaxLatency[child]` may be a number (every prerequisite) or a map `{parent: seconds}`.
"""
from __future__ import annotations

import json
import math
import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

STEP_TOLERANCE = 1e-9
BANDWIDTH_MODES = ("time_varying", "time_invariant")
COST_KEYS = {"energy": "energy", "total_task_reward": "reward", "total_time": "makespan"}


class ProblemError(ValueError):
    """A malformed problem. `path` names the field, e.g. ``Tasks.ProductsSize.sample1``."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path


@dataclass(frozen=True)
class Window:
    """A contact window: `origin` can send to `destination` at `bandwidth` bits/s in [start, end)."""

    origin: str
    destination: str
    bandwidth: float
    time_start: float
    time_end: float
    latency: float
    energy_cost: float
    info_time: float | None


@dataclass(frozen=True)
class CostWeights:
    """Objective weights: minimise energy * E - reward * R + makespan * T (plus a tie-break)."""

    energy: float = 0.0
    reward: float = 1.0
    makespan: float = 0.0


@dataclass(frozen=True)
class Problem:
    """A validated MOSAIC problem. Times are seconds; `step` is None when the file gives none;
    `max_latency` is None when the file has no `Tasks.MaxLatency` (the time-invariant model needs it)."""

    horizon: float
    step: float | None
    tasks: tuple[str, ...]
    agents: tuple[str, ...]
    optional: Mapping[str, bool]
    reward: Mapping[str, float]
    product_size: Mapping[str, float]
    dependencies: Mapping[str, tuple[tuple[str, ...], ...]]
    incompatible: tuple[tuple[str, ...], ...]
    max_latency: Mapping[str, Mapping[str, float]] | None
    computation_time: Mapping[str, Mapping[str, float]]
    computation_load: Mapping[str, Mapping[str, float]]
    initial_information: Mapping[str, Mapping[str, bool]]
    energy_cost: Mapping[str, Mapping[str, float]]
    max_load: Mapping[str, float]
    link_load_in: Mapping[str, Mapping[str, float]]
    link_load_out: Mapping[str, Mapping[str, float]]
    windows: tuple[Window, ...]
    packet_comms: bool
    weights: CostWeights
    bandwidth_mode: str

    @property
    def n_steps(self) -> int:
        """horizon / step; `ProblemError` if the step is missing or does not divide the horizon."""
        if self.step is None:
            raise ProblemError("Time.TimeStep", "missing (the time-varying model needs a step)")
        steps = self.horizon / self.step
        if abs(steps - round(steps)) > STEP_TOLERANCE * max(1.0, steps) or round(steps) < 1:
            lower, upper = math.floor(steps) * self.step, math.ceil(steps) * self.step
            raise ProblemError("Time.Thor", f"horizon {self.horizon:g} s is not a whole number of steps of "
                               f"{self.step:g} s ({steps:g} steps); use {lower:g} s or {upper:g} s")
        return int(round(steps))

    @property
    def info_time(self) -> float:
        """"Now": the median `info_time` of the windows, a missing one counting as 0 (0 without
        windows)."""
        return float(statistics.median(w.info_time or 0.0 for w in self.windows)) if self.windows else 0.0


def load_problem(path: str | Path) -> Problem:
    """Read and validate a MOSAIC JSON problem file."""
    text = Path(path).read_text()
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise ProblemError(str(path), f"not valid JSON ({err})") from None
    return parse_problem(data)


def parse_problem(data: Any) -> Problem:
    """Validate a MOSAIC problem given as a decoded JSON object."""
    root = _mapping(data, "<problem>")
    horizon, step = _time(root)
    tasks_obj = _mapping(_required(root, "Tasks", ""), "Tasks")
    caps = _mapping(_required(root, "AgentCapabilities", ""), "AgentCapabilities")

    optional_obj = _mapping(_required(tasks_obj, "OptionalTasks", "Tasks"), "Tasks.OptionalTasks")
    if not optional_obj:  # MOSAIC's TI convention: every task of ProductsSize, all required
        optional_obj = dict.fromkeys(_mapping(tasks_obj.get("ProductsSize", {}), "Tasks.ProductsSize"), False)
    tasks = tuple(optional_obj)
    if not tasks:
        raise ProblemError("Tasks.OptionalTasks", "expected at least one task")
    optional = {t: _bool(v, f"Tasks.OptionalTasks.{t}") for t, v in optional_obj.items()}
    reward = _per_task(tasks_obj, "TaskReward", "Tasks", tasks, _number, default=0.0)
    size = _per_task(tasks_obj, "ProductsSize", "Tasks", tasks, _nonneg, default=None)
    dependencies = _dependencies(tasks_obj, tasks)
    incompatible = _incompatible(tasks_obj, tasks)
    max_latency = _max_latency(tasks_obj, tasks, dependencies)

    time_obj = _mapping(_required(caps, "ComputationTime", "AgentCapabilities"),
                        "AgentCapabilities.ComputationTime")
    max_load_obj = _mapping(caps.get("MaxComputationLoad", {}), "AgentCapabilities.MaxComputationLoad")
    agents = _agents(time_obj, max_load_obj, tasks)
    computation_time = _per_task_agent(caps, "ComputationTime", tasks, agents, _nonneg_or_inf,
                                       required=True)
    load = _per_task_agent(caps, "ComputationLoad", tasks, agents, _nonneg, required=False)
    for task in tasks:
        for agent, seconds in computation_time[task].items():
            if seconds <= horizon and agent not in load[task]:
                raise ProblemError(f"AgentCapabilities.ComputationLoad.{task}.{agent}",
                                   "missing (the agent can do the task, so its load is needed)")
    initial = _per_task_agent(caps, "InitialInformation", tasks, agents, _bool, required=False)
    energy = _per_task_agent(caps, "EnergyCost", tasks, agents, _nonneg, required=False)
    max_load = {a: _nonneg(max_load_obj.get(a, 1.0), f"AgentCapabilities.MaxComputationLoad.{a}")
                for a in agents}
    link_in = _agent_agent(caps, "LinkComputationalLoadIn", agents)
    link_out = _agent_agent(caps, "LinkComputationalLoadOut", agents)

    windows = _windows(root.get("CommunicationNetwork", []), agents)
    options = _mapping(root.get("Options", {}), "Options")
    packet = _bool(options.get("Packet Comms", False), "Options.Packet Comms")
    weights = _weights(root, options)
    mode = root.get("BandwidthMode", "time_varying")
    if mode not in BANDWIDTH_MODES:
        raise ProblemError("BandwidthMode", f"expected one of {list(BANDWIDTH_MODES)}, got {mode!r}")

    return Problem(
        horizon=horizon, step=step, tasks=tasks, agents=agents, optional=optional, reward=reward,
        product_size=size, dependencies=dependencies, incompatible=incompatible,
        max_latency=max_latency, computation_time=computation_time, computation_load=load,
        initial_information=initial, energy_cost=energy, max_load=max_load, link_load_in=link_in,
        link_load_out=link_out, windows=windows, packet_comms=packet, weights=weights,
        bandwidth_mode=mode)


# --- sections -------------------------------------------------------------------------------------

def _time(root: Mapping[str, Any]) -> tuple[float, float | None]:
    time_obj = _mapping(_required(root, "Time", ""), "Time")
    horizon = _positive(_required(time_obj, "Thor", "Time"), "Time.Thor")
    step = time_obj.get("TimeStep")
    return horizon, None if step is None else _positive(step, "Time.TimeStep")


def _dependencies(tasks_obj: Mapping[str, Any], tasks: tuple[str, ...]
                  ) -> dict[str, tuple[tuple[str, ...], ...]]:
    raw = _mapping(tasks_obj.get("DependencyList", {}), "Tasks.DependencyList")
    known = set(tasks)
    result: dict[str, tuple[tuple[str, ...], ...]] = {t: () for t in tasks}
    for task, clauses in raw.items():
        path = f"Tasks.DependencyList.{task}"
        if task not in known:
            raise ProblemError(path, f"unknown task {task!r}")
        if not isinstance(clauses, list):
            raise ProblemError(path, f"expected a list of lists of tasks, got {clauses!r}")
        parsed = []
        for k, clause in enumerate(clauses):
            parents = _task_list(clause, f"{path}[{k}]", known)
            if task in parents:
                raise ProblemError(f"{path}[{k}][{parents.index(task)}]", "a task cannot depend on itself")
            if parents:
                parsed.append(parents)
        result[task] = tuple(parsed)
    return result


def _incompatible(tasks_obj: Mapping[str, Any], tasks: tuple[str, ...]) -> tuple[tuple[str, ...], ...]:
    raw = tasks_obj.get("IncompatibleTasks", [])
    if isinstance(raw, Mapping) and not raw:
        raw = []  # MOSAIC's own default and its tests write {}
    if not isinstance(raw, list):
        raise ProblemError("Tasks.IncompatibleTasks", f"expected a list of lists of tasks (or {{}}), got {raw!r}")
    known = set(tasks)
    return tuple(_task_list(group, f"Tasks.IncompatibleTasks[{k}]", known) for k, group in enumerate(raw))


def _task_list(value: Any, path: str, known: set[str]) -> tuple[str, ...]:
    """A list of known task names at `path` (a CNF clause or an incompatibility group)."""
    if not isinstance(value, list):
        raise ProblemError(path, f"expected a list of tasks, got {value!r}")
    for n, task in enumerate(value):
        if not isinstance(task, str) or task not in known:
            raise ProblemError(f"{path}[{n}]", f"unknown task {task!r}")
    return tuple(value)


def _max_latency(tasks_obj: Mapping[str, Any], tasks: tuple[str, ...],
                 dependencies: Mapping[str, tuple[tuple[str, ...], ...]]) -> dict[str, dict[str, float]] | None:
    if "MaxLatency" not in tasks_obj:
        return None
    raw = _mapping(tasks_obj["MaxLatency"], "Tasks.MaxLatency")
    known = set(tasks)
    result: dict[str, dict[str, float]] = {t: {} for t in tasks}
    for child, value in raw.items():
        path = f"Tasks.MaxLatency.{child}"
        if child not in known:
            raise ProblemError(path, f"unknown task {child!r}")
        parents = {p for clause in dependencies[child] for p in clause}
        if isinstance(value, Mapping):
            for parent, seconds in value.items():
                if parent not in known:
                    raise ProblemError(f"{path}.{parent}", f"unknown task {parent!r}")
                result[child][parent] = _nonneg_or_inf(seconds, f"{path}.{parent}")
        else:
            seconds = _nonneg_or_inf(value, path)
            result[child] = {p: seconds for p in parents}
    return result


def _agents(time_obj: Mapping[str, Any], max_load_obj: Mapping[str, Any],
            tasks: tuple[str, ...]) -> tuple[str, ...]:
    agents: dict[str, None] = dict.fromkeys(max_load_obj)
    for task in tasks:
        per_agent = _mapping(_required(time_obj, task, "AgentCapabilities.ComputationTime"),
                             f"AgentCapabilities.ComputationTime.{task}")
        agents.update(dict.fromkeys(per_agent))
    if not agents:
        raise ProblemError("AgentCapabilities", "no agents: give MaxComputationLoad or ComputationTime")
    return tuple(agents)


def _windows(raw: Any, agents: tuple[str, ...]) -> tuple[Window, ...]:
    if not isinstance(raw, list):
        raise ProblemError("CommunicationNetwork", f"expected a list of contact windows, got {raw!r}")
    known = set(agents)
    windows = []
    for k, item in enumerate(raw):
        path = f"CommunicationNetwork[{k}]"
        obj = _mapping(item, path)
        ends = {}
        for key in ("origin", "destination"):
            name = _required(obj, key, path)
            if not isinstance(name, str) or name not in known:
                raise ProblemError(f"{path}.{key}", f"unknown agent {name!r}")
            ends[key] = name
        start = _number(_required(obj, "time_start", path), f"{path}.time_start")
        end = _number_or_inf(_required(obj, "time_end", path), f"{path}.time_end")
        if end < start:
            raise ProblemError(f"{path}.time_end", f"ends ({end:g}) before it starts ({start:g})")
        windows.append(Window(
            origin=ends["origin"], destination=ends["destination"],
            bandwidth=_nonneg(_required(obj, "bandwidth", path), f"{path}.bandwidth"),
            time_start=start, time_end=end,
            latency=_nonneg(obj.get("latency", 0.0), f"{path}.latency"),
            energy_cost=_nonneg(obj.get("energy_cost", 0.0), f"{path}.energy_cost"),
            info_time=None if obj.get("info_time") is None
            else _number(obj["info_time"], f"{path}.info_time")))
    return tuple(windows)


def _weights(root: Mapping[str, Any], options: Mapping[str, Any]) -> CostWeights:
    """`CostFunction` at top level wins over `Options.CostFunction`; absent keys weigh 0."""
    if "CostFunction" in root:
        raw, path = root["CostFunction"], "CostFunction"
    elif "CostFunction" in options:
        raw, path = options["CostFunction"], "Options.CostFunction"
    else:
        return CostWeights()
    obj = _mapping(raw, path)
    for key in obj:
        if key not in COST_KEYS:
            raise ProblemError(f"{path}.{key}", f"unknown cost term; expected one of {list(COST_KEYS)}")
    return CostWeights(**{field: _number(obj.get(key, 0.0), f"{path}.{key}")
                          for key, field in COST_KEYS.items()})


def _per_task(obj: Mapping[str, Any], key: str, prefix: str, tasks: tuple[str, ...], check,
              default: Any) -> dict[str, Any]:
    path = f"{prefix}.{key}"
    raw = _mapping(obj[key], path) if key in obj else ({} if default is not None else None)
    if raw is None:
        raise ProblemError(path, "missing")
    _known_keys(raw, set(tasks), path, "task")
    result = {}
    for task in tasks:
        if task in raw:
            result[task] = check(raw[task], f"{path}.{task}")
        elif default is None:
            raise ProblemError(f"{path}.{task}", "missing")
        else:
            result[task] = default
    return result


def _per_task_agent(caps: Mapping[str, Any], key: str, tasks: tuple[str, ...], agents: tuple[str, ...],
                    check, required: bool) -> dict[str, dict[str, Any]]:
    path = f"AgentCapabilities.{key}"
    raw = _mapping(caps.get(key, {}), path)
    _known_keys(raw, set(tasks), path, "task")
    result: dict[str, dict[str, Any]] = {}
    for task in tasks:
        if required and task not in raw:
            raise ProblemError(f"{path}.{task}", "missing")
        per_agent = _mapping(raw.get(task, {}), f"{path}.{task}")
        _known_keys(per_agent, set(agents), f"{path}.{task}", "agent")
        result[task] = {a: check(v, f"{path}.{task}.{a}") for a, v in per_agent.items()}
    return result


def _agent_agent(caps: Mapping[str, Any], key: str, agents: tuple[str, ...]) -> dict[str, dict[str, float]]:
    path = f"AgentCapabilities.{key}"
    raw = _mapping(caps.get(key, {}), path)
    known = set(agents)
    _known_keys(raw, known, path, "agent")
    result: dict[str, dict[str, float]] = {}
    for a1, inner in raw.items():
        inner_obj = _mapping(inner, f"{path}.{a1}")
        _known_keys(inner_obj, known, f"{path}.{a1}", "agent")
        result[a1] = {a2: _nonneg(v, f"{path}.{a1}.{a2}") for a2, v in inner_obj.items()}
    return result


# --- scalar checks --------------------------------------------------------------------------------

def _required(obj: Mapping[str, Any], key: str, parent: str) -> Any:
    if key not in obj:
        raise ProblemError(f"{parent}.{key}" if parent else key, "missing")
    return obj[key]


def _mapping(value: Any, path: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ProblemError(path, f"expected an object, got {value!r}")
    return value


def _known_keys(obj: Mapping[str, Any], known: set[str], path: str, kind: str) -> None:
    for key in obj:
        if key not in known:
            raise ProblemError(f"{path}.{key}", f"unknown {kind} {key!r}")


def _bool(value: Any, path: str) -> bool:
    if not isinstance(value, bool):
        raise ProblemError(path, f"expected true or false, got {value!r}")
    return value


def _is_number(value: Any) -> bool:
    """An int or float, not NaN, within float's range (JSON may hold an integer beyond 1.8e308)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    try:
        return not math.isnan(float(value))
    except OverflowError:
        return False


def _number(value: Any, path: str) -> float:
    if not _is_number(value) or math.isinf(value):
        raise ProblemError(path, f"expected a finite number, got {value!r}")
    return float(value)


def _number_or_inf(value: Any, path: str) -> float:
    if not _is_number(value):
        raise ProblemError(path, f"expected a number, got {value!r}")
    return float(value)


def _nonneg(value: Any, path: str) -> float:
    if not _is_number(value) or math.isinf(value) or value < 0:
        raise ProblemError(path, f"expected a non-negative number, got {value!r}")
    return float(value)


def _nonneg_or_inf(value: Any, path: str) -> float:
    if not _is_number(value) or value < 0:
        raise ProblemError(path, f"expected a non-negative number, got {value!r}")
    return float(value)


def _positive(value: Any, path: str) -> float:
    if not _is_number(value) or math.isinf(value) or value <= 0:
        raise ProblemError(path, f"expected a positive number, got {value!r}")
    return float(value)
