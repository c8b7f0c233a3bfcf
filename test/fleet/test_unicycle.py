"""The diff-drive tracking law (feedback linearization of the offset point) on the kinematic unicycle fleet:
convergence from bad headings, stops, turning in place, and the wheel limits held."""
import math

import numpy as np
import pytest

from dro_ros.fleet.diff_drive import DiffDrive, in_world
from dro_ros.fleet.plan import Plan
from dro_ros.fleet.unicycle import UnicycleLaw
from dro_ros.fleet.unicycle_sim import UnicycleSimulator

ROBOT = DiffDrive(body_radius=0.1, wheel_base=0.16, wheel_radius=0.033, max_wheel_speed=20.0,
                  max_wheel_accel=20.0, offset=0.1)


def plan_from_rest(inputs, step=0.1, start=(0.0, 0.0)):
    """The double integrator's exact rollout (eq. 5.5-5.6) of `inputs` (H, 2) from rest at `start`."""
    inputs = np.asarray(inputs, dtype=float)
    velocity = np.vstack([np.zeros(2), step * np.cumsum(inputs, axis=0)])
    position = np.vstack([start, start + np.cumsum(step * velocity[:-1] + step * step / 2 * inputs, axis=0)])
    return Plan("robot_0", step, position, velocity, inputs, float(np.sum(inputs ** 2)))


def curve_to_rest(horizon=120, step=0.1):
    """Accelerate along +x bending left, then brake to rest: |v| <= 0.35 m/s, |u| <= 0.2 m/s^2."""
    k = np.arange(horizon)
    push = np.stack([0.15 * np.cos(0.02 * k), 0.1 * np.sin(0.03 * k)], axis=1)
    inputs = np.where((k < horizon // 2)[:, None], push, 0.0)
    braking = plan_from_rest(inputs, step).velocity[horizon // 2] / (step * (horizon - horizon // 2))
    inputs[horizon // 2:] = -braking
    return plan_from_rest(inputs, step)


def run(plan, headings, rate=50, settle=2.0, sim=None):
    """Tracker at `rate` Hz on the kinematic simulator (5 ms sub-steps) until T + settle; returns the simulator
    and every commanded twist."""
    sim = sim or UnicycleSimulator.at_points(plan.position[:1], np.array(headings, float), ROBOT)
    law, dt, commands = UnicycleLaw(ROBOT), 1.0 / rate, []
    for k in range(round((plan.duration + settle) / dt)):
        commands.append(law.command(plan.reference(k * dt), sim.pose[0]))
        sim.set_command(0, *commands[-1])
        sim.step(dt)
    return sim, np.array(commands)


@pytest.mark.parametrize("heading", [0.0, math.pi / 2, 3 * math.pi / 4, math.pi])
def test_the_tracked_point_converges_to_the_plan_from_any_start_heading(heading):
    """From rest, facing along the path, across it, or straight back (which it then drives in reverse):
    the point ends at rest within 5 mm of the plan's end."""
    plan = curve_to_rest()
    sim, _ = run(plan, [heading])
    assert np.linalg.norm(sim.points()[0] - plan.position[-1]) < 5e-3
    assert np.linalg.norm(sim.point_velocities()[0]) < 5e-3


def test_a_robot_facing_away_turns_to_face_its_path_once_it_moves():
    """135 degrees off: the heading (zero dynamics) turns towards the point's velocity."""
    plan = plan_from_rest(np.tile([0.2, 0.0], (30, 1)))
    sim, _ = run(plan, [3 * math.pi / 4], settle=0.0)
    assert abs(sim.pose[0, 2]) < 0.05 and sim.twist()[0][0] > 0.5


def test_a_sideways_error_at_rest_is_corrected_by_turning_in_place():
    """Goal 5 cm to the left of the point: the first command is a pure rotation (v = 0)."""
    v, omega = UnicycleLaw(ROBOT).command((np.array([0.1, 0.05]), np.zeros(2), np.zeros(2)), np.zeros(3))
    assert v == pytest.approx(0.0, abs=1e-12) and omega == pytest.approx(2.5 * 0.05 / 0.1)


def test_commands_beyond_the_wheel_limit_are_scaled_keeping_the_curvature():
    """A goal 3 m away asks 7.5 m/s of the point; the twist is cut to a wheel at max_wheel_speed, same arc."""
    law = UnicycleLaw(ROBOT)
    pose = np.array([0.0, 0.0, 0.3])
    wanted = ROBOT.body_twist(0.3, law.point_velocity((np.array([3.0, 1.0]), np.zeros(2), np.zeros(2)), pose))
    v, omega = law.command((np.array([3.0, 1.0]), np.zeros(2), np.zeros(2)), pose)
    right, left = ROBOT.wheel_speeds(v, omega)
    assert max(abs(right), abs(left)) == pytest.approx(ROBOT.max_wheel_speed)
    assert omega / v == pytest.approx(wanted[1] / wanted[0])


def test_wheel_speeds_and_accelerations_stay_within_the_limits_on_a_demanding_run():
    """Starting 1 m off a plan, facing away: every command, and the simulated wheels, within their limits."""
    plan = curve_to_rest()
    sim = UnicycleSimulator.at_points(plan.position[:1] + [0.0, 1.0], np.array([math.pi]), ROBOT)
    law, dt, wheels = UnicycleLaw(ROBOT), 0.02, [sim.wheels[0].copy()]
    for k in range(round(plan.duration / dt)):
        v, omega = law.command(plan.reference(k * dt), sim.pose[0])
        assert max(abs(w) for w in ROBOT.wheel_speeds(v, omega)) <= ROBOT.max_wheel_speed + 1e-9
        sim.set_command(0, v, omega)
        sim.step(dt)
        wheels.append(sim.wheels[0].copy())
    wheels = np.array(wheels)
    assert np.abs(wheels).max() <= ROBOT.max_wheel_speed + 1e-9
    assert np.abs(np.diff(wheels, axis=0)).max() <= ROBOT.max_wheel_accel * dt + 1e-9
    assert np.abs(wheels).max() == pytest.approx(ROBOT.max_wheel_speed)   # the limit was reached, and held


def test_the_simulator_integrates_a_constant_twist_on_its_exact_arc():
    """v = 0.2 m/s, omega = 0.5 rad/s for 2 pi s: half a circle of radius 0.4 m, from (0, 0) to (0, 0.8)."""
    robot = DiffDrive(0.1, 0.16, 0.033, 20.0, 1e6, 0.1)
    sim = UnicycleSimulator(np.zeros((1, 3)), robot, wheels=[robot.wheel_speeds(0.2, 0.5)])
    sim.step(2 * math.pi)
    assert sim.pose[0] == pytest.approx([0.0, 0.8, math.pi], abs=1e-9) or \
        sim.pose[0] == pytest.approx([0.0, 0.8, -math.pi], abs=1e-9)


def test_odometry_that_starts_at_the_spawn_pose_maps_into_the_world():
    """Gazebo's DiffDrive odometry is zero at the spawn pose (1, 2, pi/2): 0.5 m ahead in it is (1, 2.5)."""
    assert in_world(np.array([1.0, 2.0, math.pi / 2]), np.array([0.5, 0.0, 0.1])) == \
        pytest.approx([1.0, 2.5, math.pi / 2 + 0.1])
