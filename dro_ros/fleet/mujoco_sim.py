"""N differential-drive robots as rigid bodies in MuJoCo: wheels on a floor with friction, motors with limits,
bodies that can touch, wheel odometry that drifts, and the true pose beside it.

The model is MJCF written here (`fleet_mjcf`). Robot i is a free body: a chassis cylinder of `body_radius`
about the axle centre, clear of the floor, with a ballast that puts the centre of mass 0.3 body_radius
behind the axle (the caster carries part of the weight); two wheels of the *true* radius on hinges at
+-wheel_base / 2 (axis y, so a positive wheel speed drives forward; each a sphere, so that it touches the
floor at one point like a thin tyre: a cylinder's two rim contacts scrub when the robot turns); and a
frictionless caster sphere behind the axle. Each wheel has a MuJoCo velocity actuator (torque
kv (phi_cmd - phi'), clipped to +-`max_torque`, control range +-max_wheel_speed); the commanded wheel
speeds ramp at most max_wheel_accel per second (a motor driver's ramp, applied every control period).
Chassis cylinders collide only with each other (contype/conaffinity 2), wheels and casters with the floor
(1); a chassis-chassis contact is a body contact (`contacts`).

Wheel odometry, as a real base computes it: every control period `period` the encoder increments dphi_r,
dphi_l of the hinges give, with the *nominal* wheel radius r and base b, ds = r (dphi_r + dphi_l) / 2,
dtheta = r (dphi_r - dphi_l) / b and the midpoint update (x, y) += ds e(theta + dtheta / 2). It drifts from
the true pose by wheel slip and by each wheel's true radius r (1 + eps), eps uniform in
+-`radius_tolerance`, drawn from `seed` (an uncalibrated wheel). The integrator is implicitfast, with a fixed
step: the same seed gives the same trajectory.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import mujoco
import numpy as np

from dro_ros.fleet.diff_drive import DiffDrive, yaw
from dro_ros.fleet.unicycle_sim import DiffDriveFleet


class MujocoModelError(ValueError):
    """The generated model did not load, or its settings are bad; the message names the field."""


@dataclass(frozen=True)
class MujocoSettings:
    timestep: float = 0.002          # s, physics step
    period: float = 0.01             # s, control (ramp, contact check) and odometry period
    friction: float = 1.0            # sliding friction of floor and wheels
    body_mass: float = 1.5           # kg, chassis
    wheel_mass: float = 0.1          # kg, each wheel
    kv: float = 0.05                 # N m s / rad, wheel velocity servo gain
    max_torque: float = 0.2          # N m per wheel
    radius_tolerance: float = 0.001  # relative, of each true wheel radius against the nominal
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("timestep", "period", "friction", "body_mass", "wheel_mass", "kv", "max_torque"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0):
                raise MujocoModelError(f"{name}: must be positive and finite, got {value}")
        if not (0 <= self.radius_tolerance < 0.5):
            raise MujocoModelError(f"radius_tolerance: must be in [0, 0.5), got {self.radius_tolerance}")
        if self.period < self.timestep:
            raise MujocoModelError(f"period: must be at least timestep {self.timestep}, got {self.period}")


def fleet_mjcf(pose: np.ndarray, robot: DiffDrive, radii: np.ndarray, settings: MujocoSettings) -> str:
    """The MJCF of robots at axle poses `pose` (N, 3), wheel radii `radii` (N, 2) (right, left)."""
    s, b = settings, robot
    caster = 0.4 * b.wheel_radius
    bodies = []
    for i, ((x, y, theta), (right, left)) in enumerate(zip(pose, radii)):
        axle = float(radii[i].mean())
        wheels = "".join(f"""
      <body name="{side}_{i}" pos="0 {sign * b.wheel_base / 2} 0">
        <joint name="{side}_{i}" type="hinge" axis="0 1 0" armature="0.0005" damping="0.0001"/>
        <geom type="sphere" size="{radius}" mass="{s.wheel_mass}" contype="1"
              conaffinity="1" friction="{s.friction} 0.005 0.0001"/>
      </body>""" for side, sign, radius in (("right", -1, right), ("left", 1, left)))
        bodies.append(f"""
    <body name="robot_{i}" pos="{x} {y} {axle}" euler="0 0 {theta}">
      <freejoint name="robot_{i}"/>
      <geom name="chassis_{i}" type="cylinder" size="{b.body_radius} 0.03" pos="0 0 0.035"
            mass="{s.body_mass / 3}" contype="2" conaffinity="2"/>
      <geom name="ballast_{i}" type="sphere" size="0.01" pos="{-0.45 * b.body_radius} 0 0.02"
            mass="{2 * s.body_mass / 3}" contype="0" conaffinity="0"/>
      <geom name="caster_{i}" type="sphere" size="{caster}" pos="{-0.7 * b.body_radius} 0 {caster - axle}"
            mass="0.01" contype="1" conaffinity="1" condim="1" priority="1"/>{wheels}
    </body>""")
    actuators = "".join(f"""
    <velocity name="{side}_{i}" joint="{side}_{i}" kv="{s.kv}" ctrlrange="{-b.max_wheel_speed} {b.max_wheel_speed}"
              forcerange="{-s.max_torque} {s.max_torque}"/>""" for i in range(len(pose)) for side in ("right", "left"))
    return f"""<mujoco model="dro_ros_fleet">
  <compiler angle="radian"/>
  <option timestep="{s.timestep}" integrator="implicitfast"/>
  <worldbody>
    <geom name="floor" type="plane" size="0 0 1" contype="1" conaffinity="1" friction="{s.friction} 0.005 0.0001"/>
    {"".join(bodies)}
  </worldbody>
  <actuator>{actuators}
  </actuator>
</mujoco>
"""


class MujocoFleet(DiffDriveFleet):
    """The fleet in MuJoCo; the same verbs as `UnicycleSimulator` (set_command, step, min_distance), plus
    `odometry` (N, 3) and `odometry_twist`, the wheel odometry, and `contacts`, the body contacts so far."""

    def __init__(self, pose: np.ndarray, robot: DiffDrive, settings: MujocoSettings = MujocoSettings()) -> None:
        pose = np.array(pose, dtype=float)
        if pose.ndim != 2 or pose.shape[0] < 1 or pose.shape[1] != 3 or not np.all(np.isfinite(pose)):
            raise MujocoModelError(f"pose: expected finite values of shape (N, 3) with N >= 1, got {pose.shape}")
        rng = np.random.default_rng(settings.seed)
        self.radii = robot.wheel_radius * (1 + rng.uniform(-1, 1, (len(pose), 2)) * settings.radius_tolerance)
        try:
            self.model = mujoco.MjModel.from_xml_string(fleet_mjcf(pose, robot, self.radii, settings))
        except ValueError as error:
            raise MujocoModelError(f"model: MuJoCo did not load the generated MJCF: {error}") from None
        self.data = mujoco.MjData(self.model)
        mujoco.mj_forward(self.model, self.data)
        self.robot, self.settings = robot, settings
        self.substeps = max(1, round(settings.period / settings.timestep))
        self.period = self.substeps * settings.timestep
        name = lambda kind, text: mujoco.mj_name2id(self.model, kind, text)  # noqa: E731
        joint = mujoco.mjtObj.mjOBJ_JOINT
        self.qpos = np.array([self.model.jnt_qposadr[name(joint, f"robot_{i}")] for i in range(len(pose))])
        self.free_dof = np.array([self.model.jnt_dofadr[name(joint, f"robot_{i}")] for i in range(len(pose))])
        self.wheel_qpos = np.array([[self.model.jnt_qposadr[name(joint, f"{side}_{i}")] for side in ("right", "left")]
                                    for i in range(len(pose))])
        self.wheel_dof = np.array([[self.model.jnt_dofadr[name(joint, f"{side}_{i}")] for side in ("right", "left")]
                                   for i in range(len(pose))])
        self.robot_of_geom = np.full(self.model.ngeom, -1)   # geom id -> robot whose chassis it is, else -1
        for i in range(len(pose)):
            self.robot_of_geom[name(mujoco.mjtObj.mjOBJ_GEOM, f"chassis_{i}")] = i
        self.command = np.zeros((len(pose), 2))   # (v, omega)
        self.odometry = pose.copy()
        self.odometry_twist = (np.zeros(len(pose)), np.zeros(len(pose)))
        self.encoders = self.data.qpos[self.wheel_qpos].copy()
        self.contacts: list[tuple[float, int, int]] = []   # (time, i, j) of each new body contact
        self._touching: set[tuple[int, int]] = set()
        self.min_centre_distance = math.inf                # over every control period so far
        self.time = 0.0
        self._pending = 0.0

    @property
    def pose(self) -> np.ndarray:
        """The true axle poses (N, 3) = (x, y, yaw)."""
        q = self.data.qpos[self.qpos[:, None] + np.arange(7)]
        return np.column_stack([q[:, 0], q[:, 1], yaw(q[:, 3], q[:, 4], q[:, 5], q[:, 6])])

    def twist(self) -> tuple[np.ndarray, np.ndarray]:
        """The true body twists (v, omega) (N,): forward speed and yaw rate."""
        heading = self.pose[:, 2]
        velocity = self.data.qvel[self.free_dof[:, None] + np.arange(6)]   # world linear, then angular
        return velocity[:, 0] * np.cos(heading) + velocity[:, 1] * np.sin(heading), velocity[:, 5]

    def step(self, dt: float) -> None:
        """Advance by dt >= 0 seconds, in whole control periods (the remainder is carried to the next call)."""
        if not (math.isfinite(dt) and dt >= 0):
            raise ValueError(f"dt: must be finite and >= 0, got {dt}")
        self._pending += dt
        limit, ramp = self.robot.max_wheel_speed, self.robot.max_wheel_accel * self.period
        while self._pending >= self.period - 1e-12:
            target = np.clip(np.column_stack(self.robot.wheel_speeds(self.command[:, 0], self.command[:, 1])),
                             -limit, limit).ravel()
            self.data.ctrl[:] += np.clip(target - self.data.ctrl, -ramp, ramp)
            mujoco.mj_step(self.model, self.data, nstep=self.substeps)
            self._pending -= self.period
            self.time += self.period
            self._update_odometry()
            self._check_contacts()

    def _update_odometry(self) -> None:
        encoders = self.data.qpos[self.wheel_qpos]
        increments, self.encoders = encoders - self.encoders, encoders.copy()
        distance, turn = self.robot.twist(increments[:, 0], increments[:, 1])
        heading = self.odometry[:, 2] + turn / 2
        self.odometry[:, 0] += distance * np.cos(heading)
        self.odometry[:, 1] += distance * np.sin(heading)
        self.odometry[:, 2] = np.angle(np.exp(1j * (self.odometry[:, 2] + turn)))
        speeds = self.data.qvel[self.wheel_dof]
        self.odometry_twist = self.robot.twist(speeds[:, 0], speeds[:, 1])

    def _check_contacts(self) -> None:
        robots = self.robot_of_geom[self.data.contact.geom[:self.data.ncon]].reshape(-1, 2)
        pairs = np.sort(robots[(robots >= 0).all(axis=1)], axis=1)
        touching = {(int(i), int(j)) for i, j in pairs}
        self.contacts += [(self.time, i, j) for i, j in sorted(touching - self._touching)]
        self._touching = touching
        self.min_centre_distance = min(self.min_centre_distance, self.min_distance()[0])
