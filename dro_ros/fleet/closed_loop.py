"""Diff-drive robots flying their plans without ROS: the tracking law on a simulator's odometry, as
`tracker_node` and `fleet_sim_node` do over DDS, for tests and benchmarks.

Every 1 / `rate` s each robot's twist is `UnicycleLaw.command` of its plan's reference at t and its
odometry pose (the simulator's `odometry` when it has one, else its pose), then the simulator advances
1 / `rate` s. The run lasts T + `settle`; the true tracked points are recorded at each tick.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from dro_ros.fleet.plan import Plan
from dro_ros.fleet.summary import Track
from dro_ros.fleet.unicycle import UnicycleLaw


@dataclass
class ClosedLoopRun:
    tracks: list[Track]            # true tracked points per robot, t after the start
    min_centre_distance: float     # m, the smallest true distance of two axle centres
    contacts: int                  # body contacts (MuJoCo; 0 for the kinematic simulator)
    terminal_errors: np.ndarray    # (N,) m, true tracked point at T against the plan's end


def fly(sim, plans: Sequence[Plan], law: UnicycleLaw, rate: float = 50.0, settle: float = 1.0) -> ClosedLoopRun:
    """Run `sim` (`UnicycleSimulator` or `MujocoFleet`) under the law until T + settle."""
    dt, duration = 1.0 / rate, plans[0].duration
    samples: list[tuple[float, np.ndarray, np.ndarray]] = []
    closest = np.inf
    for k in range(round((duration + settle) * rate) + 1):
        t = k * dt
        samples.append((t, sim.points(), sim.point_velocities()))
        closest = min(closest, sim.min_distance()[0])
        poses = getattr(sim, "odometry", sim.pose)
        for i, plan in enumerate(plans):
            sim.set_command(i, *law.command(plan.reference(t), poses[i]))
        sim.step(dt)
    times = np.array([t for t, _, _ in samples])
    tracks = [Track(times, np.array([s[1][i] for s in samples]), np.array([s[2][i] for s in samples]))
              for i in range(len(plans))]
    end = [track.at([duration])[0][0] for track in tracks]
    errors = np.array([np.linalg.norm(e - plan.position[-1]) for e, plan in zip(end, plans)])
    return ClosedLoopRun(tracks, float(min(closest, getattr(sim, "min_centre_distance", np.inf))),
                         len(getattr(sim, "contacts", [])), errors)
