"""A plan that brings a moving robot to rest within its input limit (used when a mission is cancelled).

From (s_0, v_0) the robot decelerates along -v_0 / ||v_0|| at `decel` until it stops, then holds:
u_k = -min(decel, ||v_k|| / step) v_0 / ||v_0||, rolled out exactly by the double integrator (5.5-5.6), so the
last step ends exactly at rest and every ||u_k|| <= decel.
"""
from __future__ import annotations

import math

import numpy as np

from dro_ros.fleet.plan import Plan


def braking_plan(robot: str, position: np.ndarray, velocity: np.ndarray, *, decel: float, step: float,
                 run_id: str = "") -> Plan:
    if not (decel > 0 and step > 0):
        raise ValueError(f"decel, step: must be positive, got {decel}, {step}")
    position, velocity = np.asarray(position, dtype=float), np.asarray(velocity, dtype=float)
    speed = float(np.linalg.norm(velocity))
    steps = max(1, math.ceil(speed / (decel * step) - 1e-9))
    direction = velocity / speed if speed > 0 else np.zeros_like(velocity)
    inputs = np.zeros((steps, len(position)))
    positions, velocities = [position], [velocity]
    remaining = speed
    for k in range(steps):
        braking = min(decel, remaining / step)
        inputs[k] = -braking * direction
        positions.append(positions[-1] + velocities[-1] * step + inputs[k] * step * step / 2)
        velocities.append(velocities[-1] + inputs[k] * step)
        remaining -= braking * step
    velocities[-1] = np.zeros_like(velocity)  # exactly at rest (the sum of the steps is ||v_0|| up to rounding)
    return Plan(robot=robot, step=step, position=np.array(positions), velocity=np.array(velocities), input=inputs,
                cost=float(np.sum(inputs ** 2)), run_id=run_id)
