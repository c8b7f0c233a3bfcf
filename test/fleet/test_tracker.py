"""TrackingLaw closing the loop around FleetSimulator: the error dynamics it promises, and a curved plan."""
import numpy as np
import pytest

from dro_ros.fleet import FleetSimulator, Plan, TrackingLaw


def curved_plan(horizon=50, step=0.1):
    k = np.arange(horizon)
    inputs = 0.5 * np.stack([np.sin(0.3 * k), np.cos(0.2 * k)], axis=1)
    s0, v0 = np.array([1.0, -2.0]), np.array([0.5, 0.0])
    velocity = np.vstack([v0, v0 + step * np.cumsum(inputs, axis=0)])
    position = np.vstack([s0, s0 + np.cumsum(step * velocity[:-1] + step * step / 2 * inputs, axis=0)])
    return Plan("robot_0", step, position, velocity, inputs, float(np.sum(inputs ** 2)))


def run(plan, law, sim, sim_rate=100, tracker_every=1):
    """Simulate to the plan's end, the tracker commanding every `tracker_every` simulator steps."""
    dt = 1.0 / sim_rate
    for i in range(round(plan.duration / dt)):
        if i % tracker_every == 0:
            sim.set_command(0, law.command(plan.reference(i * dt), sim.position[0]))
        sim.step(dt)
    s, v, _ = plan.reference(plan.duration)
    return np.linalg.norm(s - sim.position[0]), np.linalg.norm(v - sim.velocity[0])


@pytest.mark.parametrize("tracker_every, position_tol, velocity_tol", [(1, 1e-8, 1e-8), (2, 2e-3, 1.5e-3)])
def test_a_curved_plan_is_tracked_from_an_offset_start(tracker_every, position_tol, velocity_tol):
    """Simulator at 100 Hz, tracker at 100 Hz or 50 Hz (the nodes' defaults), starting 0.2 m and 0.1 m/s off
    the plan. Measured at T: 2e-10 m, 1e-9 m/s at 100 Hz (the offset decays as exp(-5 t), and exact tracking
    is an equilibrium); 1.1 mm, 1.1 mm/s at 50 Hz (a command held over two steps). Without the feedforward
    lag a_ref the steady error would be lag |a_ref| / gain, up to 2 cm here."""
    plan = curved_plan()
    sim = FleetSimulator(plan.position[:1] + [0.2, 0.0], plan.velocity[:1] + [0.0, 0.1])
    position_error, velocity_error = run(plan, TrackingLaw(), sim, tracker_every=tracker_every)
    assert position_error < position_tol and velocity_error < velocity_tol


def test_without_feedforward_the_same_run_misses():
    class NoFeedforward(TrackingLaw):
        def command(self, reference, position):
            s_ref, v_ref, _ = reference
            return v_ref + self.gain * (s_ref - position)

    plan = curved_plan()
    sim = FleetSimulator(plan.position[:1].copy(), plan.velocity[:1].copy())
    position_error, _ = run(plan, NoFeedforward(), sim, tracker_every=2)
    assert position_error > 5e-3


def test_the_error_decays_as_the_critically_damped_solution():
    """Defaults: e(t) = e_0 (1 + 5 t) exp(-5 t) from rest; the 100 Hz hold deviates by O(dt), 1 % of e_0."""
    plan = Plan("r", 0.1, np.zeros((21, 1)), np.zeros((21, 1)), np.zeros((20, 1)), 0.0)
    law, sim, dt = TrackingLaw(), FleetSimulator([[-0.2]], [[0.0]]), 0.01
    for i in range(200):
        sim.set_command(0, law.command(plan.reference(i * dt), sim.position[0]))
        sim.step(dt)
        t = (i + 1) * dt
        assert -sim.position[0, 0] == pytest.approx(0.2 * (1 + 5 * t) * np.exp(-5 * t), abs=3e-3)


def test_exact_tracking_is_an_equilibrium():
    plan = curved_plan()
    sim = FleetSimulator(plan.position[:1].copy(), plan.velocity[:1].copy())
    dt = plan.step / 10
    for i in range(plan.horizon * 10):
        sim.set_command(0, TrackingLaw().command(plan.reference(i * dt), sim.position[0]))
        sim.step(dt)
    np.testing.assert_allclose(sim.position[0], plan.position[-1], atol=1e-11)
    np.testing.assert_allclose(sim.velocity[0], plan.velocity[-1], atol=1e-11)


@pytest.mark.parametrize("field", ["gain", "lag"])
def test_non_positive_parameters_name_the_field(field):
    with pytest.raises(ValueError, match=f"^{field}:"):
        TrackingLaw(**{field: 0.0})
