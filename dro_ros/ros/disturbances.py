"""A mission's scripted disturbances over DDS: the announcement the supervisor publishes at the mission's
first switch (no rclpy here).

Scenario times count from a mission's first switch (`mission.receding`), an instant only the supervisor
knows, and every mission (the config's own, or each goal served through the action) starts the script
anew. So at each receding-horizon mission's first switch the supervisor publishes, latched, on
`DISTURBANCES_TOPIC` (std_msgs/String) the JSON text

    {"mission_id": ..., "origin_ns": <the first switch, ROS time in ns>, "robots": [names in index order],
     "disturbances": [the scenario's disturbances, as `receding_from_config` reads them]}

and whoever acts on a disturbance times it from `origin_ns`: `fleet_sim_node` drifts the pushed robots and stops the odometry of robots with an `odometry_stop`,
the launcher's `ros.dropouts.DropoutInjector` silences or kills and restarts the dropped robots' agents,
and each `agent_node` cuts its own links during its outages (its carriers' `NetworkModel`).
"""
from __future__ import annotations

import json
from dataclasses import dataclass

from dro_ros.core.simple import Outage
from dro_ros.mission.receding import (Disturbance, Dropout, LinkOutage, OdometryStop, Push, RecedingError,
                                      receding_from_config)

DISTURBANCES_TOPIC = "/fleet/disturbances"
INJECTOR_NODE = "dropout_injector"   # the launcher's node that acts on dropouts (`ros.dropouts`)


@dataclass(frozen=True)
class Announcement:
    """One mission's disturbances, timed from `origin_ns` (ROS time of its first switch)."""

    mission_id: str
    origin_ns: int
    robots: tuple[str, ...]
    disturbances: tuple[Disturbance, ...]

    def to_json(self) -> str:
        return json.dumps({"mission_id": self.mission_id, "origin_ns": self.origin_ns, "robots": list(self.robots),
                           "disturbances": [d.to_config() for d in self.disturbances]})

    @classmethod
    def from_json(cls, text: str, dim: int) -> "Announcement":
        """Parse and validate an announcement; a RecedingError names the offending field."""
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            raise RecedingError(f"announcement: expected JSON text ({error})") from None
        if not isinstance(data, dict):
            raise RecedingError(f"announcement: expected a JSON object, got {data!r}")
        robots, origin = data.get("robots"), data.get("origin_ns")
        if not isinstance(robots, list) or not all(isinstance(r, str) for r in robots):
            raise RecedingError(f"announcement.robots: expected a list of robot names, got {robots!r}")
        if not isinstance(origin, int) or isinstance(origin, bool):
            raise RecedingError(f"announcement.origin_ns: expected an integer, got {origin!r}")
        _, disturbances = receding_from_config({"disturbances": data.get("disturbances")}, len(robots), dim)
        return cls(str(data.get("mission_id", "")), origin, tuple(robots), disturbances)

    def pushes(self) -> list[Push]:
        return [d for d in self.disturbances if isinstance(d, Push)]

    def dropouts(self) -> list[Dropout]:
        return [d for d in self.disturbances if isinstance(d, Dropout)]

    def odometry_stops(self) -> list[OdometryStop]:
        return [d for d in self.disturbances if isinstance(d, OdometryStop)]

    def outages_of(self, robot: str, origin: float) -> tuple[Outage, ...]:
        """`robot`'s link outages as a carrier's `NetworkModel` outages, in seconds after `origin` (a
        `time.time_ns()` instant in seconds, e.g. the process start): `origin_ns` plus each outage's time."""
        offset = self.origin_ns * 1e-9 - origin
        return tuple(Outage(robot, max(0.0, offset + d.time), d.duration + min(0.0, offset + d.time))
                     for d in self.disturbances if isinstance(d, LinkOutage) and self.robots[d.robot] == robot
                     and offset + d.time + d.duration > 0)

