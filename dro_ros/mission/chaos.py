"""The chaos suite's plain parts (no rclpy): seeded faults, the run's fleet config, and the verdict of a run.

Run k of a suite with seed S draws its faults from `random.Random(f"{S}/{k}")` (`draw_faults`): between
`faults_per_run` faults, each of a kind of `FAULT_KINDS`, on a robot among the fleet's, at a time in
`window` seconds after the mission's first switch, lasting `durations` seconds (a push `push_durations`):

- `kill`: the robot's agent process killed and started again after the duration (a scripted dropout,
  `mode: kill`, carried out by the launcher's `ros.dropouts.DropoutInjector`);
- `outage`: the robot's links cut for the duration (`kind: outage`, its agent's `NetworkModel`);
- `delay`: every message of every link delayed by a drawn constant (the fleet config's `network.delay`,
  the whole run; at most one per run);
- `push`: the robot drifted at a drawn velocity for the duration (`kind: push`, by the simulator);
- `odometry_stop`: the robot's odometry silent for the duration (`kind: odometry_stop`, by the simulator);
- `supervisor_restart`: the supervisor's process killed and started again after the duration (the bench's
  harness does it; at most one per run, after the run's other faults have ended). The goal in flight is
  lost; the robots keep following their last committed plans, which end at rest; the harness sends the
  mission again to the restarted supervisor, which poses it from the robots' live odometry and flies it
  without the script (each fault acts once).

`classify` turns what a run produced into its `Verdict`: the outcome (`succeeded`; `recovered`, when the
mission succeeded after the fleet had to act on a fault: it was sent again, or a replan stalled on a silent
robot or dropped one (windows that fell back for lack of time alone happen without faults too); or
`failed` with the reason the mission result names), whether safety held (the executed separation and
obstacle clearance within `separation_tolerance` of r_min and the clearance, in every mission summary and
in the independent measurements of the harness), and whether anything hung.
"""
from __future__ import annotations

import copy
import math
import random
from dataclasses import asdict, dataclass, field
from typing import Any

FAULT_KINDS = ("kill", "outage", "delay", "push", "odometry_stop", "supervisor_restart")
ONCE_PER_RUN = ("delay", "supervisor_restart")   # whole-fleet faults: at most one of each per run
OUTCOMES = ("succeeded", "recovered", "failed")


class ChaosError(ValueError):
    """Bad chaos settings; the message names the offending field."""


@dataclass(frozen=True)
class ChaosSettings:
    """How faults are drawn; every range is [low, high]."""

    faults_per_run: tuple[int, int] = (1, 3)
    window: tuple[float, float] = (4.0, 20.0)        # s after the mission's first switch: when a fault starts
    durations: tuple[float, float] = (2.0, 5.0)      # s a fault lasts
    push_speed: tuple[float, float] = (0.2, 0.6)     # m/s of a push's drift
    push_durations: tuple[float, float] = (0.5, 1.5)   # s a push lasts (a shove, not a tow)
    delay: tuple[float, float] = (0.01, 0.05)        # s added to every message
    kinds: tuple[str, ...] = FAULT_KINDS

    def __post_init__(self) -> None:
        for name in ("faults_per_run", "window", "durations", "push_speed", "push_durations", "delay"):
            value = getattr(self, name)
            _require(isinstance(value, (tuple, list)) and len(value) == 2 and all(_number(v) for v in value)
                     and 0 <= value[0] <= value[1], name, f"expected [low, high] with 0 <= low <= high, got {value!r}")
        _require(all(isinstance(v, int) and not isinstance(v, bool) for v in self.faults_per_run)
                 and self.faults_per_run[0] >= 1, "faults_per_run",
                 f"expected whole numbers [low, high] with low >= 1, got {self.faults_per_run!r}")
        for name in ("durations", "push_durations"):
            _require(getattr(self, name)[0] > 0, name, f"must be positive, got {getattr(self, name)!r}")
        unknown = [k for k in self.kinds if k not in FAULT_KINDS]
        _require(bool(self.kinds) and not unknown, "kinds", f"expected a non-empty list of {list(FAULT_KINDS)}, "
                 f"got {list(self.kinds)!r}")

    @classmethod
    def from_options(cls, options: dict[str, Any]) -> "ChaosSettings":
        """From the bench's options (lists for the ranges); an unknown key is named."""
        unknown = sorted(set(options) - set(cls.__dataclass_fields__))
        _require(not unknown, unknown[0] if unknown else "", f"unknown chaos setting; expected "
                 f"{sorted(cls.__dataclass_fields__)}")
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in options.items()})


@dataclass(frozen=True)
class Fault:
    """One injected fault. `robot` is None for the whole-fleet kinds; `time` and `duration` in seconds
    (a delay acts the whole run: time 0, duration None); `velocity` of a push, `delay` in s per message."""

    kind: str
    robot: int | None
    time: float
    duration: float | None
    velocity: tuple[float, ...] | None = None
    delay: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(self).items() if v is not None
                or k in ("robot", "duration")}

    def disturbance(self) -> dict[str, Any] | None:
        """The scenario disturbance that injects it (`mission.receding`), or None (delay, supervisor)."""
        common = {"robot": self.robot, "time": self.time}
        if self.kind == "kill":
            return {**common, "kind": "dropout", "duration": self.duration, "mode": "kill"}
        if self.kind in ("outage", "odometry_stop"):
            return {**common, "kind": self.kind, "duration": self.duration}
        if self.kind == "push":
            return {**common, "kind": "push", "velocity": list(self.velocity), "duration": self.duration}
        return None


def draw_faults(seed: int | str, run: int, n_robots: int, settings: ChaosSettings | None = None,
                dim: int = 2) -> list[Fault]:
    """Run `run`'s faults, drawn from `random.Random(f"{seed}/{run}")`, in time order (see the module
    docstring). The same seed and run give the same faults."""
    _require(isinstance(n_robots, int) and n_robots >= 1, "n_robots", f"must be a positive integer, got {n_robots!r}")
    settings = settings or ChaosSettings()
    rng = random.Random(f"{seed}/{run}")
    count = rng.randint(*settings.faults_per_run)
    kinds: list[str] = []
    for _ in range(count):
        allowed = [k for k in settings.kinds if k not in ONCE_PER_RUN or k not in kinds]
        if not allowed:
            break
        kinds.append(rng.choice(allowed))
    faults = []
    for kind in (k for k in kinds if k != "supervisor_restart"):
        if kind == "delay":
            faults.append(Fault("delay", None, 0.0, None, delay=round(rng.uniform(*settings.delay), 4)))
            continue
        robot = rng.randrange(n_robots)
        start = round(rng.uniform(*settings.window), 2)
        duration = round(rng.uniform(*(settings.push_durations if kind == "push" else settings.durations)), 2)
        velocity = None
        if kind == "push":
            angle, speed = rng.uniform(0, 2 * math.pi), rng.uniform(*settings.push_speed)
            velocity = tuple(round(v, 3) for v in ([speed * math.cos(angle), speed * math.sin(angle)] + [0.0] * 3)[:dim])
        faults.append(Fault(kind, robot, start, duration, velocity=velocity))
    if "supervisor_restart" in kinds:
        after = max([f.time + f.duration for f in faults if f.duration is not None] + [settings.window[0]])
        faults.append(Fault("supervisor_restart", None, round(after + rng.uniform(1.0, 4.0), 2),
                            round(rng.uniform(*settings.durations), 2)))
    return sorted(faults, key=lambda f: f.time)


def faulted_config(base: dict[str, Any], faults: list[Fault], seed: int | str = 0) -> dict[str, Any]:
    """A copy of the fleet config `base` (its `scenario` read in place) whose scenario's `disturbances` are
    the faults' (replacing its own) and whose `network.delay` is the drawn delay, if any."""
    config = copy.deepcopy(base)
    _require(isinstance(config.get("scenario"), dict), "scenario", "expected the scenario read in place (a mapping)")
    config["scenario"]["disturbances"] = [d for d in (f.disturbance() for f in faults) if d is not None]
    delays = [f.delay for f in faults if f.kind == "delay"]
    if delays:
        network = config.setdefault("network", {})
        network.update(delay=delays[0], seed=network.get("seed", _stable(seed)))
    return config


@dataclass(frozen=True)
class Safety:
    """The executed run's closest approaches against their bounds (m)."""

    r_min: float
    clearance: float
    tolerance: float
    min_separation: float | None            # the supervisor's summaries (odometry), smallest over missions
    min_obstacle_distance: float | None
    true_min_separation: float | None       # the simulator's /fleet/min_distance, the whole run
    odometry_min_obstacle_distance: float | None   # the harness's own odometry, the whole run
    true_min_separation_at: float | None = None    # s after the first mission's first switch
    odometry_min_obstacle_distance_at: tuple[str, float | None] | None = None   # (robot, s after it)

    @property
    def held(self) -> bool:
        separations = [v for v in (self.min_separation, self.true_min_separation) if v is not None]
        clearances = [v for v in (self.min_obstacle_distance, self.odometry_min_obstacle_distance) if v is not None]
        return (bool(separations) and min(separations) >= self.r_min - self.tolerance
                and (not clearances or min(clearances) >= self.clearance - self.tolerance))


@dataclass
class Verdict:
    outcome: str             # one of OUTCOMES
    reason: str              # why it failed, or what the fleet recovered from
    safety_held: bool
    hung: list[str] = field(default_factory=list)   # what hung: the run past its wall limit, nodes killed


def classify(missions: list[dict[str, Any]], safety: Safety, *, resent: bool, hung: list[str],
             exited: list[str]) -> Verdict:
    """A run's verdict from its missions' results (each `{status, reason, summary}`, in the order sent; the
    last one decides), its safety figures, whether the mission was sent again, what hung and which nodes
    exited unasked."""
    if exited:
        return Verdict("failed", "node exited: " + "; ".join(exited), safety.held, hung)
    if not missions:
        return Verdict("failed", "no mission result" + (f" ({'; '.join(hung)})" if hung else ""), safety.held, hung)
    last = missions[-1]
    if last.get("status") != "SUCCEEDED":
        reason = last.get("reason") or f"mission {str(last.get('status', 'without status')).lower()}"
        return Verdict("failed", reason, safety.held, hung)
    if not safety.held:
        return Verdict("failed", "safety: " + _safety_reason(safety), False, hung)
    acted = ["the mission sent again after the supervisor restarted"] if resent else []
    for mission in missions:
        summary = mission.get("summary") or {}
        acted += list(summary.get("stalls") or [])
        acted += [f"robot {robot} dropped" for robot in (summary.get("dropped_s") or {})]
    return Verdict("recovered" if acted else "succeeded", "; ".join(acted), True, hung)


def _safety_reason(safety: Safety) -> str:
    bound = safety.r_min - safety.tolerance
    parts = [f"{name} {value:.4f} m < r_min {safety.r_min:g} - {safety.tolerance:g}" for name, value in
             (("separation", safety.min_separation), ("true separation", safety.true_min_separation))
             if value is not None and value < bound]
    bound = safety.clearance - safety.tolerance
    parts += [f"{name} {value:.4f} m < clearance {safety.clearance:g} - {safety.tolerance:g}" for name, value in
              (("obstacle distance", safety.min_obstacle_distance),
               ("odometry obstacle distance", safety.odometry_min_obstacle_distance))
              if value is not None and value < bound]
    return "; ".join(parts) or "no separation measured"


def totals(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The suite's totals over the runs' records (each with `faults`, `outcome`, `safety_held`, `hung`; a
    fault with `injected: false` did not happen, e.g. a supervisor restart due after the mission ended)."""
    survived = [r for r in runs if r["outcome"] in OUTCOMES and r["safety_held"] and not r["hung"]]
    recovered = sum(r["outcome"] == "recovered" for r in runs)
    faulted = sum(bool(r["faults"]) for r in runs)
    return {"runs": len(runs), "faults_injected": sum(f.get("injected", True) for r in runs for f in r["faults"]),
            "succeeded": sum(r["outcome"] == "succeeded" for r in runs), "recovered": recovered,
            "failed": sum(r["outcome"] == "failed" for r in runs),
            "survived": len(survived), "safety_violations": sum(not r["safety_held"] for r in runs),
            "hangs": sum(bool(r["hung"]) for r in runs),
            "slowest_exit_s": max((r.get("slowest_exit_s", 0.0) for r in runs), default=0.0),
            "recovery_rate": (sum(r["outcome"] in ("succeeded", "recovered") for r in runs) / faulted
                              if faulted else None)}


def _stable(seed: int | str) -> int:
    """A network seed from the suite's seed, the same in every process (no salted hash)."""
    return random.Random(str(seed)).randrange(2 ** 31)


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _require(condition: bool, field_name: str, message: str) -> None:
    if not condition:
        raise ChaosError(f"{field_name}: {message}")
