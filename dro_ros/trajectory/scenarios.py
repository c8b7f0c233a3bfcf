"""The thesis experiments (Ch. 5) as problems, and the YAML config format that describes them.

A config is either explicit (initial states and terminal conditions listed) or a `platoon` family
generated from eq. 5.11-5.12 for any N. Agents are 0-based indices here; the thesis numbers them 1..N.
Every field is validated and an error names it (`ProblemError`).

    name: formation2d
    dim: 2
    horizon: 500            # H
    duration: 50.0          # T; the step is T / H
    r_min: 0.2
    max_speed: 2.0          # v_bar (omit for none)
    max_input: 0.2          # u_bar (omit for none)
    coupling: collision     # collision | ordering
    initial: [[6.5, 1, 1, 1.5], ...]            # (s, v) per agent
    terminal: {kind: ball, centre: [30, 30], radius: 1, velocity: [1, 1.5]}   # one for all, or a list
    communication: {radius: 2.0}                # eq. 5.13, or {edges: [[0, 1], ...]}
    sweep: {path: [1, 2, 5, 6]}                 # CDS-PS path (optional: searched if absent); CDS-BS
                                                # takes root: i and prediction: k (coarse factor)
    eas: {epsilon_bar: 5.0, delta_bar: 0.3, n_iter: 100}
    obstacles:                                  # dim 2 only (`trajectory.obstacles`)
      - {kind: disc, centre: [12, 10], radius: 1.5}
      - {kind: polygon, vertices: [[-1, -1], [1, -1], [1, 1], [-1, 1]]}   # convex
    clearance: 0.1                              # robot to obstacle (default r_min / 2)

A receding-horizon window (`mission.receding.window_config`) also uses `terminal: {kind: goal, target,
weight, velocity}` (the cost to go), `traffic` (positions (H+1, m) of robots outside the problem, kept
`traffic_separation` away, default r_min), `guess` (inputs (N, H, m) every solve starts from) and
`separation: segments` (the separations held between the samples too; default `samples`).
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import yaml

from dro_ros.core.topology import Topology, TopologyError, unit_disk
from dro_ros.trajectory.checker import require_feasible_data
from dro_ros.trajectory.eas import EasParameters
from dro_ros.trajectory.obstacles import Obstacle, ObstacleError, obstacles_from_config
from dro_ros.trajectory.problem import (MAX_HORIZON, BallTerminal, FixedTerminal, FleetProblem, GoalTerminal,
                                        ProblemError, Terminal)

FORMATION_INITIAL = [  # eq. 5.14, agents 1..8
    (6.5, 1, 1, 1.5), (5, 1, 1, 1.3), (3, 1, 1, 1.2), (1, 1, 1, 1),
    (4, 2, 1, 1), (2, 2, 1, 0.8), (2, 3, 1, 0.6), (0, 3, 1, 0.4),
]


@dataclass(frozen=True)
class Scenario:
    """A problem with its communication graph and the algorithm settings a config carries."""

    problem: FleetProblem
    graph: Topology
    path: tuple[int, ...] | None = None   # CDS-PS path, v0 first
    root: int | None = None               # CDS-BS root
    eas: dict[str, float] | None = None
    prediction: int | None = None         # CDS-BS coarse prediction factor (`trajectory.prediction`)
    guess: np.ndarray | None = None       # (N, H, m) inputs every solve starts from (e.g. the previous window)


def require_fleet_graph(problem: FleetProblem, graph: Topology) -> None:
    """The graph has one node per agent (`TopologyError` otherwise)."""
    if graph.n != problem.n_agents:
        raise TopologyError(f"graph has {graph.n} nodes but problem {problem.name!r} has {problem.n_agents} agents")


def require_agent(scenario: Scenario, index: int, names: Sequence[str]) -> None:
    """What every trajectory agent factory checks before building agent `index`: one graph node per agent
    (`TopologyError`), `index` one of them and one address per agent (`ValueError`), and data that
    `checker.diagnose` does not prove infeasible (`InfeasibleProblem`)."""
    require_fleet_graph(scenario.problem, scenario.graph)
    n = scenario.problem.n_agents
    if isinstance(index, bool) or not isinstance(index, (int, np.integer)) or not 0 <= index < n:
        raise ValueError(f"index: expected an agent index in 0..{n - 1}, got {index!r}")
    if len(names) != n:
        raise ValueError(f"names: expected {n} addresses, one per agent, got {len(names)}")
    require_feasible_data(scenario.problem)


def formation2d() -> Scenario:
    """Sec. 5.2 exactly as stated: N = 8, H = 500, T = 50 s, eq. 5.14-5.16, r_com = 2, path {2, 3, 6, 7}."""
    initial = np.array(FORMATION_INITIAL, dtype=float)
    terminal = BallTerminal(centre=np.array([30.0, 30.0]), radius=1.0, velocity=np.array([1.0, 1.5]))
    problem = FleetProblem(dim=2, horizon=500, step=0.1, initial=initial, terminals=(terminal,) * 8,
                           r_min=0.2, coupling="collision", max_speed=2.0, max_input=0.2, name="formation2d")
    return Scenario(problem, unit_disk(initial[:, :2], 2.0), path=(1, 2, 5, 6),
                    eas={"epsilon_bar": 5.0, "delta_bar": 0.3, "n_iter": 100})


def platoon(n: int, *, horizon: int = 1000, duration: float = 100.0, limits: bool = True) -> Scenario:
    """Sec. 5.1: s_i(0) = 8i, v_i(0) = N + 1 - 2i (5.11); s_i(H) = 8N + 500 - 2(N - i), v_i(H) = 0 (5.12).

    `limits=True` keeps the stated v_bar = 10, u_bar = 0.2, which make the problem infeasible for N >= 3
    (see `checker.diagnose`); `limits=False` drops them, leaving the convex problem with the ordering
    s_{i+1} - s_i >= r_min = 0.5 that the benchmark solves. The path graph is rooted at agent N/2 (thesis
    numbering), index N // 2 - 1.
    """
    if n < 2:
        raise ProblemError(f"n: a platoon needs at least 2 agents, got {n}")
    index = np.arange(1, n + 1, dtype=float)
    initial = np.column_stack([8 * index, n + 1 - 2 * index])
    terminals = tuple(FixedTerminal(np.array([8 * n + 500 - 2 * (n - i)]), np.array([0.0])) for i in index)
    problem = FleetProblem(dim=1, horizon=horizon, step=duration / horizon, initial=initial, terminals=terminals,
                           r_min=0.5, coupling="ordering", max_speed=10.0 if limits else None,
                           max_input=0.2 if limits else None, name=f"platoon{n}")
    graph = Topology.from_edges(n, [(i, i + 1) for i in range(n - 1)])
    return Scenario(problem, graph, root=max(n // 2 - 1, 0))


def load_scenario(path: str | Path) -> Scenario:
    """Read a YAML config (see the module docstring)."""
    data = yaml.safe_load(Path(path).read_text())
    if not isinstance(data, dict):
        raise ProblemError(f"{path}: expected a mapping at the top level")
    return scenario_from_config(data)


def scenario_from_config(config: dict[str, Any]) -> Scenario:
    if not isinstance(config, dict):
        raise ProblemError(f"scenario: expected a mapping, got {type(config).__name__}")
    sweep = _mapping(config, "sweep")
    prediction = _number(sweep, "prediction", int, where="sweep") if "prediction" in sweep else None
    if prediction is not None and prediction < 1:
        raise ProblemError(f"sweep.prediction: expected a positive integer, got {prediction}")
    if config.get("family") == "platoon":
        n = _number(config, "n", int)
        scenario = platoon(n, horizon=_number(config, "horizon", int, 1000),
                           duration=_number(config, "duration", float, 100.0),
                           limits=bool(config.get("limits", True)))
        return dataclasses.replace(scenario, prediction=prediction)
    dim, horizon = _number(config, "dim", int), _number(config, "horizon", int)
    initial = _array(config, "initial", ndim=2)
    terminal = _field(config, "terminal")
    specs = terminal if isinstance(terminal, list) else [terminal] * len(initial)
    terminals = tuple(_terminal(spec, f"terminal[{k}]" if isinstance(terminal, list) else "terminal")
                      for k, spec in enumerate(specs))
    traffic = config.get("traffic") or ()
    if not isinstance(traffic, (list, tuple)):
        raise ProblemError(f"traffic: expected a list of paths, got {type(traffic).__name__}")
    duration = _number(config, "duration", float)
    if not 1 <= horizon <= MAX_HORIZON:
        raise ProblemError(f"horizon: must be a positive integer up to {MAX_HORIZON}, got {horizon}")
    if duration <= 0:
        raise ProblemError(f"duration: must be positive, got {duration}")
    problem = FleetProblem(
        dim=dim, horizon=horizon, step=duration / horizon, initial=initial,
        terminals=terminals, r_min=_number(config, "r_min", float), coupling=config.get("coupling", "collision"),
        max_speed=_optional(config, "max_speed"), max_input=_optional(config, "max_input"),
        name=str(config.get("name", "fleet")), obstacles=_obstacles(config), clearance=_optional(config, "clearance"),
        traffic=tuple(_array({f"traffic[{k}]": path}, f"traffic[{k}]") for k, path in enumerate(traffic)),
        traffic_separation=_optional(config, "traffic_separation"),
        separation=config.get("separation", "samples"))
    path = tuple(_index(v, f"sweep.path[{k}]") for k, v in enumerate(_list(sweep, "path", "sweep"))) \
        if "path" in sweep else None
    return Scenario(problem, _graph(config, problem), path=path,
                    root=_index(sweep["root"], "sweep.root") if "root" in sweep else None, eas=_eas(config),
                    prediction=prediction, guess=_guess(config, problem))


def _guess(config: dict[str, Any], problem: FleetProblem) -> np.ndarray | None:
    if config.get("guess") is None:
        return None
    guess = _array(config, "guess")
    shape = (problem.n_agents, problem.horizon, problem.dim)
    if guess.shape != shape or not np.all(np.isfinite(guess)):
        raise ProblemError(f"guess: expected finite inputs of shape {shape}, got {guess.shape}")
    return guess


def _obstacles(config: dict[str, Any]) -> tuple[Obstacle, ...]:
    try:
        return obstacles_from_config(config.get("obstacles"))
    except ObstacleError as error:
        raise ProblemError(str(error)) from error


def _eas(config: dict[str, Any]) -> dict[str, float] | None:
    """The `eas:` settings, checked as `EasParameters` checks them."""
    if config.get("eas") is None:
        return None
    eas = _mapping(config, "eas")
    known = [f.name for f in dataclasses.fields(EasParameters)]
    for key, value in eas.items():
        if key not in known:
            raise ProblemError(f"eas.{key}: unknown setting (expected one of {', '.join(known)})")
        if not (value is None and key == "delta_bar"):
            _number(eas, key, int if key in ("n_iter", "max_rounds") else float, where="eas")
    try:
        EasParameters(**eas)
    except ValueError as error:
        raise ProblemError(f"eas.{error}") from None
    return eas


def _graph(config: dict[str, Any], problem: FleetProblem) -> Topology:
    communication = _mapping(config, "communication")
    try:
        if "radius" in communication:
            return unit_disk(problem.initial[:, :problem.dim], _number(communication, "radius", float,
                                                                       where="communication"))
        if "edges" in communication:
            edges = _list(communication, "edges", "communication")
            return Topology.from_edges(problem.n_agents, [_edge(e, f"communication.edges[{k}]")
                                                          for k, e in enumerate(edges)])
    except TopologyError as error:
        raise ProblemError(f"communication: {error}") from error
    raise ProblemError("communication: expected {radius: r} or {edges: [[i, j], ...]}")


def _terminal(spec: Any, where: str) -> Terminal:
    if not isinstance(spec, dict):
        raise ProblemError(f"{where}: expected a mapping, got {spec!r}")
    kind = spec.get("kind")
    if kind == "ball":
        return BallTerminal(centre=_array(spec, "centre", where), radius=_number(spec, "radius", float, where=where),
                            velocity=_array(spec, "velocity", where))
    if kind == "fixed":
        return FixedTerminal(position=_array(spec, "position", where), velocity=_array(spec, "velocity", where))
    if kind == "goal":
        return GoalTerminal(target=_array(spec, "target", where), weight=_number(spec, "weight", float, where=where),
                            velocity=_array(spec, "velocity", where))
    raise ProblemError(f"{where}.kind: expected 'ball', 'fixed' or 'goal', got {kind!r}")


def _field(mapping: dict[str, Any], key: str, where: str = "") -> Any:
    if key not in mapping:
        raise ProblemError(f"{where + '.' if where else ''}{key}: missing")
    return mapping[key]


def _number(mapping: dict[str, Any], key: str, kind: type, default: Any = None, where: str = "") -> Any:
    if key not in mapping and default is not None:
        return default
    value = _field(mapping, key, where)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ProblemError(f"{where + '.' if where else ''}{key}: expected {kind.__name__}, got {value!r}")
    try:
        finite = math.isfinite(value)
    except OverflowError:   # an integer beyond float's range
        finite = False
    if not finite:
        raise ProblemError(f"{where + '.' if where else ''}{key}: expected a finite number, got {value!r}")
    if kind is int and value != int(value):
        raise ProblemError(f"{where + '.' if where else ''}{key}: expected {kind.__name__}, got {value!r}")
    return kind(value)


def _array(mapping: dict[str, Any], key: str, where: str = "", ndim: int | None = None) -> np.ndarray:
    """A (nested) list of numbers as a float array (of `ndim` dimensions if given); the problem's own checks
    then test its shape."""
    value = _field(mapping, key, where)
    if isinstance(value, (str, bytes, dict)):
        raise ProblemError(f"{where + '.' if where else ''}{key}: expected a list of numbers, got {value!r}")
    try:
        array = np.asarray(value, dtype=float)
    except (TypeError, ValueError, OverflowError):
        raise ProblemError(f"{where + '.' if where else ''}{key}: expected numbers in rows of equal length, "
                           f"got {value!r}") from None
    if ndim is not None and array.ndim != ndim:
        raise ProblemError(f"{where + '.' if where else ''}{key}: expected {ndim} levels of lists, got {value!r}")
    if not np.all(np.isfinite(array)):
        raise ProblemError(f"{where + '.' if where else ''}{key}: contains a non-finite value")
    return array


def _mapping(config: dict[str, Any], key: str) -> dict[str, Any]:
    """An optional section (`{}` when absent)."""
    value = config.get(key) or {}
    if not isinstance(value, dict):
        raise ProblemError(f"{key}: expected a mapping, got {value!r}")
    return value


def _list(mapping: dict[str, Any], key: str, where: str) -> list:
    value = mapping[key]
    if not isinstance(value, (list, tuple)):
        raise ProblemError(f"{where}.{key}: expected a list, got {value!r}")
    return value


def _index(value: Any, where: str) -> int:
    """An integer; the graph and the sweep check its range."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ProblemError(f"{where}: expected an agent index, got {value!r}")
    return value


def _edge(value: Any, where: str) -> tuple[int, int]:
    if not isinstance(value, (list, tuple)) or len(value) != 2:
        raise ProblemError(f"{where}: expected a pair [i, j], got {value!r}")
    return int(_index(value[0], where)), int(_index(value[1], where))


def _optional(mapping: dict[str, Any], key: str) -> float | None:
    return None if mapping.get(key) is None else _number(mapping, key, float)
