"""What RViz shows of a robot's agent: its plan as `nav_msgs/Path` and a `MarkerArray` with the plan, the
communication links (eq. 5.13, from the initial positions) and the safety disc of radius r_min / 2, drawn
in the robot's `<robot>/base_link` frame so it moves with the robot's TF; and the scenario's static
obstacles (namespace `obstacles`, the same from every agent)."""
from __future__ import annotations

from typing import Sequence

import numpy as np
from builtin_interfaces.msg import Time
from rclpy.duration import Duration
from rclpy.time import Time as RosTime
from geometry_msgs.msg import Point, Pose, PoseStamped, Vector3
from nav_msgs.msg import Path
from std_msgs.msg import ColorRGBA, Header
from visualization_msgs.msg import Marker, MarkerArray

from dro_ros.fleet.plan import Plan
from dro_ros.trajectory.obstacles import DiscObstacle, Obstacle


def _point(xyz: np.ndarray) -> Point:
    padded = np.zeros(3)
    padded[:len(xyz)] = xyz
    return Point(x=float(padded[0]), y=float(padded[1]), z=float(padded[2]))


def path_msg(plan: Plan, stamp: Time, frame_id: str, start_ns: int = 0) -> Path:
    """One pose per plan sample k, stamped `start_ns` + k * step (0 = relative to the fleet start)."""
    poses = []
    for k, position in enumerate(plan.position):
        t = RosTime(nanoseconds=start_ns) + Duration(seconds=k * plan.step)
        header = Header(stamp=t.to_msg(), frame_id=frame_id)
        poses.append(PoseStamped(header=header, pose=Pose(position=_point(position))))
    return Path(header=Header(stamp=stamp, frame_id=frame_id), poses=poses)


def agent_markers(plan: Plan, stamp: Time, frame_id: str, neighbours: Sequence[np.ndarray], r_min: float,
                  position: np.ndarray, obstacles: Sequence[Obstacle] = ()) -> MarkerArray:
    """Markers in namespace `<robot>`: 0 = planned path, 1 = links to the neighbours, 2 = safety disc; then
    `obstacle_markers`."""
    header = Header(stamp=stamp, frame_id=frame_id)
    planned = Marker(header=header, ns=plan.robot, id=0, type=Marker.LINE_STRIP, action=Marker.ADD,
                     scale=Vector3(x=0.05), color=ColorRGBA(r=0.1, g=0.4, b=0.9, a=1.0),
                     points=[_point(p) for p in plan.position])
    links = Marker(header=header, ns=plan.robot, id=1, type=Marker.LINE_LIST, action=Marker.ADD,
                   scale=Vector3(x=0.02), color=ColorRGBA(r=0.5, g=0.5, b=0.5, a=0.8),
                   points=[q for n in neighbours for q in (_point(position), _point(n))])
    disc = Marker(header=Header(stamp=stamp, frame_id=f"{plan.robot}/base_link"), ns=plan.robot, id=2,
                  type=Marker.CYLINDER, action=Marker.ADD, frame_locked=True,
                  scale=Vector3(x=r_min, y=r_min, z=0.01), color=ColorRGBA(r=0.9, g=0.2, b=0.2, a=0.4))
    disc.pose.orientation.w = 1.0
    return MarkerArray(markers=[planned, links, disc, *obstacle_markers(obstacles, Header(stamp=stamp, frame_id=frame_id))])


def obstacle_markers(obstacles: Sequence[Obstacle], header: Header) -> list[Marker]:
    """Namespace `obstacles`, id k for obstacle k: a grey cylinder for a disc, a closed outline for a polygon."""
    markers = []
    grey = ColorRGBA(r=0.4, g=0.4, b=0.4, a=0.8)
    for k, obstacle in enumerate(obstacles):
        if isinstance(obstacle, DiscObstacle):
            marker = Marker(header=header, ns="obstacles", id=k, type=Marker.CYLINDER, action=Marker.ADD,
                            scale=Vector3(x=2 * obstacle.radius, y=2 * obstacle.radius, z=0.3), color=grey)
            marker.pose.position = _point(obstacle.centre)
            marker.pose.orientation.w = 1.0
        else:
            ring = [*obstacle.vertices, obstacle.vertices[0]]
            marker = Marker(header=header, ns="obstacles", id=k, type=Marker.LINE_STRIP, action=Marker.ADD,
                            scale=Vector3(x=0.05), color=grey, points=[_point(v) for v in ring])
            marker.pose.orientation.w = 1.0
        markers.append(marker)
    return markers
