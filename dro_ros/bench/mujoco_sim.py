"""`dro-ros bench mujoco-sim`: the MuJoCo diff-drive fleet's speed against real time, and its odometry drift.

`robots` robots (default 16; the geometry of config/formation_small_diffdrive.yaml) on a grid 3 m apart,
each driving v = 0.3 m/s with omega = 0.8 sin(0.5 t + i) rad/s (commands set every 20 ms, as a 50 Hz
tracker would) for `duration` simulated seconds. Reports the real-time factor (simulated s per wall s, one
process on one core), the physics steps per wall second, the body contacts and the wheel odometry's
drift from the true pose at the end (largest, and per metre driven).
"""
from __future__ import annotations

import math
import time
from typing import Any

import numpy as np

from dro_ros.fleet.mujoco_sim import MujocoFleet, MujocoSettings
from dro_ros.spec.fleet_config import DiffDriveRobot

ROBOT = DiffDriveRobot(kind="diff_drive", body_radius=0.1, wheel_base=0.16, wheel_radius=0.033,
                       max_wheel_speed=20.0, max_wheel_accel=20.0, offset=0.1)


def run(robots: int = 16, duration: float = 20.0, seed: int = 0) -> dict[str, Any]:
    if not (isinstance(robots, int) and robots >= 1):
        raise ValueError(f"robots: expected a positive integer, got {robots!r}")
    if not (isinstance(duration, (int, float)) and duration > 0):
        raise ValueError(f"duration: expected a positive number of seconds, got {duration!r}")
    side = math.ceil(math.sqrt(robots))
    grid = np.array([(3.0 * (i % side), 3.0 * (i // side), 0.0) for i in range(robots)], dtype=float)
    settings = MujocoSettings(seed=seed)
    sim = MujocoFleet(grid, ROBOT.geometry(), settings)
    period, ticks = 0.02, round(duration / 0.02)
    started = time.perf_counter()
    for k in range(ticks):
        for i in range(robots):
            sim.set_command(i, 0.3, 0.8 * math.sin(0.5 * k * period + i))
        sim.step(period)
    wall = time.perf_counter() - started
    drift = np.linalg.norm(sim.odometry[:, :2] - sim.pose[:, :2], axis=1)
    return {"benchmark": "mujoco-sim", "robots": robots, "simulated_s": round(sim.time, 3),
            "wall_s": round(wall, 3), "real_time_factor": round(sim.time / wall, 2),
            "physics_steps_per_s": round(sim.time / settings.timestep / wall),
            "timestep_s": settings.timestep, "mujoco": __import__("mujoco").__version__,
            "contacts": len(sim.contacts), "min_centre_distance_m": round(sim.min_centre_distance, 4),
            "odometry_drift_max_m": round(float(drift.max()), 4),
            "odometry_drift_per_m": round(float(drift.max() / (0.3 * sim.time)), 5)}
