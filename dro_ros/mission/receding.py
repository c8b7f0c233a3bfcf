"""Receding-horizon missions: the settings, the scripted disturbances and the window problem.

Every `period` seconds the fleet re-plans. Planning for switch time t_k starts at t_k - period from the
measured states; it poses, per connected part C of the communication graph, the window problem

    min  sum_{i in C} sum_{t=0}^{K-1} ||u_i(t)||^2 + w ||s_i(K) - g_i||^2
    s.t. the dynamics (5.5) from x_i(0) = the state predicted at t_k, ||v|| <= v_bar, ||u|| <= u_bar,
         the coupling of (5.8) inside C, the obstacles' clearance,
         ||s_i(t) - p_j(t)|| >= r_min + margin for every robot j outside C (its committed plan p_j),
         v_i(K) = 0,

with the coupling's r_min raised by `separation_margin` (delta) when the separation is imposed at the
samples only (`separation: samples`, the thesis's eq. 5.8; `segments` holds between them already): two
robots r = r_min + delta apart at two samples, moving by L relative to each other in between, pass
sqrt(r^2 - (L/2)^2) apart at least. For r_min 0.2 m and a 0.25 s step, delta = 0.01 m keeps r_min for
relative speeds up to 0.51 m/s, and r_min - 0.01 m (the executed run's tolerance) up to 0.72 m/s; without
it, 0.5 m/s already uses the whole tolerance. The default is 0: over DDS the 0.01 m margin made the
8-robot windows miss more deadlines (README, "separation_margin").

over K = `steps` samples of the mission's step (`trajectory.problem.GoalTerminal`), and solves it with the
same distributed algorithms as one-shot planning. The obstacle constraints hold at the samples only, so
the window keeps a larger clearance, `sampled_clearance`, chosen so that the straight chord between two
samples, at most v_bar t_s long, keeps the mission's clearance too. g_i is robot i's goal (its fixed
terminal position, the centre of its terminal disc, or its own point of a disc it shares with other robots,
`mission.goal_slots`) when the straight line to it is clear of the
obstacles; otherwise a point of its shortest route around them, one window's reach ahead
(`mission.route`), so that no obstacle face holds a robot in a local minimum of the cost to go. Because every window ends at rest, a committed plan can be followed past
its end: the robot stays where the plan leaves it, clear of obstacles and of the others' plans. That is the
fallback when a replan is late or fails (`mission.receding_loop`).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Union

import numpy as np

from dro_ros.mission.goal_slots import goal_slots
from dro_ros.mission.route import route_target
from dro_ros.trajectory.obstacles import DiscObstacle, distances
from dro_ros.trajectory.problem import MAX_HORIZON, BallTerminal, FixedTerminal, FleetProblem


class RecedingError(ValueError):
    """Malformed receding-horizon settings or disturbances; the message names the offending field."""


@dataclass(frozen=True)
class RecedingHorizon:
    """The `receding_horizon:` keys of a scenario."""

    steps: int                   # K: window length in steps of the mission's step
    period: float                # seconds between replans; switch times t_k = k period
    duration: float              # seconds the mission may take at most
    goal_weight: float = 1.0     # w of the cost to go
    goal_tolerance: float = 0.05   # metres beyond its terminal set at which a robot has reached its goal
    stall: float = 2.0           # seconds a replan waits for a silent robot before dropping it
    traffic_margin: float = 0.1  # metres added to r_min around robots outside the part being planned
    separation_margin: float = 0.0   # metres added to r_min between the part's robots, at the samples

    def __post_init__(self) -> None:
        _require(isinstance(self.steps, int) and not isinstance(self.steps, bool) and 2 <= self.steps <= MAX_HORIZON,
                 "receding_horizon.steps", f"must be an integer in 2..{MAX_HORIZON}, got {self.steps!r}")
        for name in ("period", "duration", "goal_weight", "goal_tolerance", "stall"):
            value = getattr(self, name)
            _require(_number(value) and value > 0, f"receding_horizon.{name}", f"must be positive, got {value!r}")
        for name in ("traffic_margin", "separation_margin"):
            value = getattr(self, name)
            _require(_number(value) and value >= 0, f"receding_horizon.{name}", f"must be >= 0, got {value!r}")
        _require(self.duration >= self.period, "receding_horizon.duration",
                 f"must be at least one period ({self.period} s), got {self.duration}")

    def check_against(self, problem: FleetProblem) -> None:
        """What the mission's problem must allow: a period of whole steps (so every window starts on a sample
        of the plan before it), a window longer than a period and long enough to brake every robot from its
        start (||v_i(0)|| / u_bar seconds), and goals clear of the obstacles."""
        steps = self.period / problem.step
        _require(abs(steps - round(steps)) <= 1e-9 * max(1.0, steps), "receding_horizon.period",
                 f"must be a whole number of steps of {problem.step:g} s, got {self.period:g} s")
        window = self.steps * problem.step
        _require(window > self.period, "receding_horizon.steps",
                 f"the window ({self.steps} steps of {problem.step:g} s = {window:g} s) must outlast the period "
                 f"({self.period:g} s)")
        if problem.obstacles:
            goals = np.stack([goal_of(problem, i) for i in range(problem.n_agents)])
            gaps = distances(problem.obstacles, goals)
            for i, k in zip(*np.nonzero(gaps < problem.clearance)):
                raise RecedingError(f"terminal[{i}]: robot {i}'s goal {goals[i].tolist()} (where the cost to go pulls "
                                    f"it) lies {gaps[i, k]:.3g} m from obstacle {k}, within the clearance "
                                    f"{problem.clearance:g} m")
        if problem.max_input is not None:
            braking = float(np.max(np.linalg.norm(problem.initial[:, problem.dim:], axis=1))) / problem.max_input
            _require(window >= braking, "receding_horizon.steps",
                     f"the window ({window:g} s) is shorter than the {braking:g} s a robot needs to brake from its "
                     f"start speed at u_bar = {problem.max_input:g}")


@dataclass(frozen=True)
class Push:
    """From `time` for `duration` seconds, robot `robot` drifts at `velocity` on top of its own motion."""

    robot: int
    time: float
    velocity: tuple[float, ...]
    duration: float = 1.0

    def to_config(self) -> dict[str, Any]:
        return {"robot": self.robot, "time": self.time, "kind": "push", "velocity": list(self.velocity),
                "duration": self.duration}


DROPOUT_MODES = ("silent", "kill")


@dataclass(frozen=True)
class Dropout:
    """Robot `robot`'s agent is silent from `time` for `duration` seconds (its tracker keeps following its
    committed plan). Over DDS (`ros.dropouts`) `mode` says how: `silent`, the agent's process is suspended
    for the duration; `kill`, it is killed and started again after the duration (it then speaks once it has
    started up). In process both are the same silence."""

    robot: int
    time: float
    duration: float
    mode: str = "silent"

    def covers(self, t: float) -> bool:
        return self.time <= t < self.time + self.duration

    def to_config(self) -> dict[str, Any]:
        return {"robot": self.robot, "time": self.time, "kind": "dropout", "duration": self.duration,
                "mode": self.mode}


@dataclass(frozen=True)
class _Interval:
    """A fault of robot `robot` from `time` for `duration` seconds, of the scenario kind `kind`."""

    robot: int
    time: float
    duration: float
    kind = ""

    def covers(self, t: float) -> bool:
        return self.time <= t < self.time + self.duration

    def to_config(self) -> dict[str, Any]:
        return {"robot": self.robot, "time": self.time, "kind": self.kind, "duration": self.duration}


@dataclass(frozen=True)
class LinkOutage(_Interval):
    """Robot `robot`'s radio links are cut from `time` for `duration` seconds: nothing in or out between its
    agent and the others (its agent still answers the fleet's supervisor, its tracker keeps following its
    plan). A window of a part holding it cannot be planned while it lasts: the part keeps its plans. Over
    DDS its agent's carrier cuts the links (`core.simple.NetworkModel` outages); in process the window's
    solve reports the cut."""

    kind = "outage"


@dataclass(frozen=True)
class OdometryStop(_Interval):
    """Robot `robot`'s odometry stops from `time` for `duration` seconds: nothing is published on its
    odometry topic (a sensor or driver fault). Over DDS `fleet_sim_node` silences it; the robot's tracker
    reports STALE and flies its plan's feedforward, and the supervisor judges the robot silent while its
    odometry is older than its `odom_timeout` (the others plan around its committed plan) and takes it back
    once odometry is heard again."""

    kind = "odometry_stop"


Disturbance = Union[Push, Dropout, LinkOutage, OdometryStop]


def receding_from_config(config: dict[str, Any], n_robots: int, dim: int
                         ) -> tuple[RecedingHorizon | None, tuple[Disturbance, ...]]:
    """The `receding_horizon:` and `disturbances:` keys of a scenario config (None when the first is absent)."""
    spec = config.get("receding_horizon")
    horizon = None
    if spec is not None:
        _require(isinstance(spec, dict), "receding_horizon", f"expected a mapping, got {spec!r}")
        known = {"steps", "period", "duration", "goal_weight", "goal_tolerance", "stall", "traffic_margin",
                 "separation_margin"}
        unknown = sorted(set(spec) - known)
        _require(not unknown, f"receding_horizon.{unknown[0] if unknown else ''}",
                 f"unknown key; expected {sorted(known)}")
        for key in ("steps", "period", "duration"):
            _require(key in spec, f"receding_horizon.{key}", "missing")
        horizon = RecedingHorizon(**spec)
    items = config.get("disturbances") or []
    _require(isinstance(items, list), "disturbances", f"expected a list, got {items!r}")
    return horizon, tuple(_disturbance(item, f"disturbances[{k}]", n_robots, dim) for k, item in enumerate(items))


DISTURBANCE_KEYS = {"push": {"robot", "time", "kind", "velocity", "duration"},
                    "dropout": {"robot", "time", "kind", "duration", "mode"},
                    "outage": {"robot", "time", "kind", "duration"},
                    "odometry_stop": {"robot", "time", "kind", "duration"}}


def _disturbance(item: Any, where: str, n_robots: int, dim: int) -> Disturbance:
    _require(isinstance(item, dict), where, f"expected a mapping, got {item!r}")
    kind = item.get("kind")
    _require(isinstance(kind, str) and kind in DISTURBANCE_KEYS, f"{where}.kind", f"expected one of {sorted(DISTURBANCE_KEYS)}, got {kind!r}")
    unknown = sorted(set(item) - DISTURBANCE_KEYS[kind])
    _require(not unknown, f"{where}.{unknown[0] if unknown else ''}",
             f"unknown key of a {kind}; expected {sorted(DISTURBANCE_KEYS[kind])}")
    robot, time = item.get("robot"), item.get("time")
    _require(isinstance(robot, int) and not isinstance(robot, bool) and 0 <= robot < n_robots, f"{where}.robot",
             f"expected a robot index in 0..{n_robots - 1}, got {robot!r}")
    _require(_number(time) and time >= 0, f"{where}.time", f"must be >= 0, got {time!r}")
    if kind == "push":
        velocity = item.get("velocity")
        _require(isinstance(velocity, list) and len(velocity) == dim and all(_number(v) for v in velocity),
                 f"{where}.velocity", f"expected {dim} finite numbers, got {velocity!r}")
        duration = item.get("duration", 1.0)
        _require(_number(duration) and duration > 0, f"{where}.duration", f"must be positive, got {duration!r}")
        return Push(robot, float(time), tuple(float(v) for v in velocity), float(duration))
    duration, mode = item.get("duration"), item.get("mode", DROPOUT_MODES[0])
    _require(_number(duration) and duration > 0, f"{where}.duration", f"must be positive, got {duration!r}")
    if kind == "outage":
        return LinkOutage(robot, float(time), float(duration))
    if kind == "odometry_stop":
        return OdometryStop(robot, float(time), float(duration))
    _require(mode in DROPOUT_MODES, f"{where}.mode", f"expected one of {list(DROPOUT_MODES)}, got {mode!r}")
    return Dropout(robot, float(time), float(duration), mode)


def goal_of(problem: FleetProblem, robot: int) -> np.ndarray:
    """g_i: the fixed terminal position, or the centre of the terminal disc."""
    terminal = problem.terminals[robot]
    if isinstance(terminal, FixedTerminal):
        return terminal.position
    if isinstance(terminal, BallTerminal):
        return terminal.centre
    return terminal.target


def window_target(mission: FleetProblem, horizon: RecedingHorizon, robot: int, start: np.ndarray,
                  slots: dict[int, np.ndarray] | None = None) -> np.ndarray:
    """What the window's cost to go pulls `robot` toward from `start`: its goal (its own slot of a terminal
    disc it shares, `mission.goal_slots`; `slots` when the caller has them already), or around the obstacles
    on the way a point of its shortest route to the goal about one window's reach ahead (`mission.route`)."""
    slots = goal_slots(mission) if slots is None else slots
    goal = slots.get(robot, goal_of(mission, robot))
    if not mission.obstacles or mission.dim != 2:
        return goal
    reach = horizon.steps * mission.step * (mission.max_speed if mission.max_speed is not None else math.inf)
    return route_target(start, goal, mission.obstacles, clearance=mission.clearance, margin=mission.r_min,
                        reach=reach)


def window_config(mission: FleetProblem, horizon: RecedingHorizon, robots: list[int], initial: np.ndarray,
                  traffic: list[np.ndarray], name: str, *, edges: list[tuple[int, int]],
                  eas: dict[str, float] | None = None, guess: np.ndarray | None = None) -> dict[str, Any]:
    """The window problem of the module docstring as a scenario config (the form an agent receives), for
    `robots` (their order is the window's agent order) from `initial` (len(robots), 2m), with the other
    robots' committed positions `traffic` ((K+1, m) each), the communication `edges` among `robots`
    (window indices), and the warm start `guess` (len(robots), K, m)."""
    start = np.asarray(initial, dtype=float)[:, :mission.dim]
    slots = goal_slots(mission)
    pairs = np.triu_indices(len(robots), 1)
    gaps = np.linalg.norm(start[pairs[0]] - start[pairs[1]], axis=-1)
    passing = [np.linalg.norm(start[:, None] - np.stack([p[0] for p in traffic])[None], axis=-1)] if traffic else []
    config: dict[str, Any] = {
        "name": name, "dim": mission.dim, "horizon": horizon.steps, "duration": horizon.steps * mission.step,
        "r_min": _as_reached(mission.r_min + separation_margin(mission, horizon), gaps, floor=mission.r_min), "coupling": mission.coupling, "max_speed": mission.max_speed,
        "max_input": mission.max_input, "initial": np.asarray(initial, dtype=float).tolist(),
        "terminal": [{"kind": "goal", "target": window_target(mission, horizon, i, start[k], slots).tolist(),
                      "weight": horizon.goal_weight, "velocity": [0.0] * mission.dim} for k, i in enumerate(robots)],
        "communication": {"edges": [list(e) for e in edges]},
        "obstacles": [o.to_config() for o in mission.obstacles],
        "clearance": _as_reached(sampled_clearance(mission), distances(mission.obstacles, start),
                                 floor=mission.clearance),
        "traffic": [np.asarray(p, dtype=float).tolist() for p in traffic],
        "traffic_separation": _as_reached(mission.r_min + horizon.traffic_margin, *passing, floor=mission.r_min),
        "separation": mission.separation}
    if eas:
        config["eas"] = dict(eas)
    if guess is not None:
        config["guess"] = np.asarray(guess, dtype=float).tolist()
    return config


START_TOLERANCE = 1e-3
"""Metres a window's start may fall short of a separation or clearance (the previous plan ends exactly on
it, and Ipopt's and the tracker's last digits do not): that bound is then the start's own for the window."""


def _as_reached(bound: float, *starts: np.ndarray, floor: float | None = None) -> float:
    """`bound`, or the smallest of the `starts` distances when it lies short of `bound` but not more than
    START_TOLERANCE below `floor` (default: `bound`): the window then keeps what the start already has. A
    start further short stays infeasible and is reported as such.

    The floors: the mission's r_min for the traffic separation r_min + margin (a robot that was a part's
    neighbour at r_min when the other dropped out, or whose part split off, starts inside the margin), the
    mission's clearance for the sampled clearance (a pushed robot may start inside the chord margin)."""
    values = [np.min(s) for s in starts if np.size(s)]
    smallest = float(min(values, default=bound))
    lowest = bound if floor is None else min(floor, bound)
    return max(0.0, smallest - 1e-9) if lowest - START_TOLERANCE <= smallest < bound else bound


def separation_margin(mission: FleetProblem, horizon: RecedingHorizon) -> float:
    """What a window adds to r_min between its robots (the module docstring): `separation_margin` when the
    separation holds at the samples only, else 0."""
    return horizon.separation_margin if mission.separation == "samples" else 0.0


def sampled_clearance(mission: FleetProblem) -> float:
    """The clearance to impose at the samples so that the chord between two samples (length at most
    L = v_bar t_s) keeps the mission's clearance c. A chord whose ends are at distance R' from a point
    passes it at sqrt(R'^2 - (L/2)^2) at least, so R' = sqrt(R^2 + (L/2)^2) keeps R: for a disc of radius r
    the point is its centre and R = r + c; for a convex polygon the nearest point of a chord that stays
    outside a face's half-plane is an end, so only a vertex matters, with R = c."""
    c = mission.clearance
    if not mission.obstacles or mission.max_speed is None:
        return c
    half = mission.max_speed * mission.step / 2
    needed = [np.hypot(o.radius + c, half) - o.radius if isinstance(o, DiscObstacle) else np.hypot(c, half)
              for o in mission.obstacles]
    return float(max(needed))


def _number(value: Any) -> bool:
    """A finite int or float (a YAML integer may lie beyond float's range: not finite)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:
        return False


def _require(condition: bool, field_name: str, message: str) -> None:
    if not condition:
        raise RecedingError(f"{field_name}: {message}")
