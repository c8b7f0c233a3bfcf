"""A fleet run read back from its bag alone (`dro-ros fleet up --record`), with rosbags' reader: the problem,
the plans and the executed tracks, for `summarize` and `execution_figure`; no rclpy.

Messages are decoded with the definitions stored in the bag. The run is the last `/fleet/start` of the
bag (run id, robots, release instant t = 0); as the supervisor does:
- the problem is the scenario on `/fleet/scenario`;
- plan i is the `/<robot_i>/plan` of that run;
- track i is `/<robot_i>/odom` from the start message to T + settle, at t = header stamp - release;
- the simulator's running minimum distance is the least `/fleet/min_distance` received in that window.
Diff-drive robots (the scenario carries `tracked_offset` d > 0, as the supervisor publishes it): track i is
the point d ahead of the pose on `/<robot_i>/ground_truth` (or `/odom` when no ground truth was recorded),
and `/fleet/min_distance`, a distance of centres, is kept as `min_centre_distance`.
A bag that was never closed is first recovered (`recording.recover`) into a temporary file.
"""
from __future__ import annotations

import json
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from rosbags.highlevel import AnyReader, AnyReaderError

from dro_ros.fleet.diff_drive import tracked_point, tracked_velocity, yaw
from dro_ros.fleet.plan import Plan, plan_from_message
from dro_ros.fleet.recording import SCENARIO_TOPIC, RecordingError, recover
from dro_ros.fleet.summary import Track
from dro_ros.trajectory.problem import FleetProblem

READ = (SCENARIO_TOPIC, "/fleet/start", "/fleet/min_distance")  # with every /<robot>/plan, /odom, /ground_truth


@dataclass
class RecordedRun:
    """What a bag says about its last released run; `counts` is the number of messages per topic."""

    problem: FleetProblem
    run_id: str
    robots: list[str]
    plans: dict[int, Plan]
    tracks: dict[int, Track]
    min_distance: float | None
    counts: dict[str, int] = field(default_factory=dict)
    min_centre_distance: float | None = None   # diff-drive robots: the simulator's least distance of centres
    duration: float = 0.0      # seconds from the bag's first message to its last
    recovered: bool = False    # the bag was not closed; what it held up to the cut was read


def read_run(path: str | Path, settle: float = 1.0) -> RecordedRun:
    """The last released run of the bag at `path`, its tracks up to T + `settle` seconds (the supervisor's
    default); RecordingError says what the bag lacks."""
    path = Path(path)
    if not path.exists():
        raise RecordingError(f"{path}: no such bag")
    try:
        return _read(path, settle, recovered=False)
    except AnyReaderError as error:
        with tempfile.TemporaryDirectory(prefix="dro_ros_recovered_") as directory:
            copy = Path(directory) / "recovered.mcap"
            if path.is_dir() or not recover(path, copy):
                raise RecordingError(f"{path}: not a readable bag ({error})") from None
            return _read(copy, settle, recovered=True)


def _read(path: Path, settle: float, recovered: bool) -> RecordedRun:
    from dro_ros.trajectory.scenarios import scenario_from_config

    with AnyReader([path]) as reader:
        counts = Counter()
        for connection in reader.connections:
            counts[connection.topic] += connection.msgcount
        wanted = [c for c in reader.connections
                  if c.topic in READ or c.topic.endswith(("/plan", "/odom", "/ground_truth"))]
        messages = [(c.topic, stamp, reader.deserialize(raw, c.msgtype))
                    for c, stamp, raw in reader.messages(connections=wanted)]
        span = reader.duration * 1e-9
    scenarios = [m.data for topic, _, m in messages if topic == SCENARIO_TOPIC]
    starts = [(stamp, m) for topic, stamp, m in messages if topic == "/fleet/start"]
    if not scenarios:
        raise RecordingError(f"{path}: no /fleet/scenario message (was it recorded from a trajectory fleet?)")
    if not starts:
        raise RecordingError(f"{path}: no /fleet/start message: the robots were never released")
    scenario = json.loads(scenarios[-1])
    problem, offset = scenario_from_config(scenario).problem, float(scenario.get("tracked_offset", 0.0))
    odom = "ground_truth" if offset and any(t.endswith("/ground_truth") for t in counts) else "odom"
    received, start = starts[-1]
    release = start.start.sec * 10**9 + start.start.nanosec
    robots = list(start.robots)
    plans = {}
    for topic, _, message in messages:
        if topic.endswith("/plan") and message.run_id == start.run_id and message.robot in robots:
            plans[robots.index(message.robot)] = plan_from_message(message)
    if len(plans) != len(robots):
        raise RecordingError(f"{path}: no plan of run {start.run_id} from "
                             + ", ".join(r for i, r in enumerate(robots) if i not in plans))
    duration = plans[0].duration
    samples: dict[int, list[tuple[float, list[float], list[float]]]] = {i: [] for i in plans}
    distances = []
    for topic, stamp, message in messages:
        if stamp < received:
            continue
        robot = topic.strip("/").split("/")[0]
        if topic == f"/{robot}/{odom}" and robot in robots:
            t = (message.header.stamp.sec * 10**9 + message.header.stamp.nanosec - release) * 1e-9
            if t <= duration + settle:
                samples[robots.index(robot)].append((t, *_point(message, offset)))
        elif topic == "/fleet/min_distance" and (stamp - release) * 1e-9 <= duration + settle:
            distances.append(message.data)
    missing = [robots[i] for i, rows in samples.items() if not rows]
    if missing:
        raise RecordingError(f"{path}: no odometry after the start from " + ", ".join(missing))
    m = problem.dim
    tracks = {i: Track(np.array([r[0] for r in rows]), np.array([r[1][:m] for r in rows]),
                       np.array([r[2][:m] for r in rows])) for i, rows in samples.items()}
    closest = min(distances) if distances else None
    return RecordedRun(problem=problem, run_id=start.run_id, robots=robots, plans=plans, tracks=tracks,
                       min_distance=None if offset else closest, counts=dict(counts), duration=span,
                       recovered=recovered, min_centre_distance=closest if offset else None)


def _point(message, offset: float) -> tuple[list[float], list[float]]:
    """Position and velocity of the planned point: the odometry's, or the point `offset` ahead of a
    diff-drive base's pose (`diff_drive`, eq. 1)."""
    p, v, q = message.pose.pose.position, message.twist.twist.linear, message.pose.pose.orientation
    if not offset:
        return [p.x, p.y, p.z], [v.x, v.y, v.z]
    heading = float(yaw(q.w, q.x, q.y, q.z))
    return (list(tracked_point(np.array([p.x, p.y, heading]), offset)),
            list(tracked_velocity(heading, v.x, message.twist.twist.angular.z, offset)))
