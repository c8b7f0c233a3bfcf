"""Plan: the continuous-time reference equals the double integrator under zero-order hold, everywhere."""
import numpy as np
import pytest

from dro_ros.fleet import Plan, PlanError


def rollout(s0, v0, inputs, step):
    """The discrete double integrator (eq. 5.5-5.6), one sample at a time."""
    position, velocity = [np.array(s0, dtype=float)], [np.array(v0, dtype=float)]
    for u in inputs:
        position.append(position[-1] + step * velocity[-1] + step * step / 2 * u)
        velocity.append(velocity[-1] + step * u)
    return np.array(position), np.array(velocity)


def curved_plan(horizon=12, step=0.25):
    k = np.arange(horizon)
    inputs = np.stack([np.sin(0.7 * k), np.cos(0.4 * k) - 0.3, 0.2 * (-1.0) ** k], axis=1)
    position, velocity = rollout([1.0, -2.0, 0.5], [0.3, 0.0, -0.1], inputs, step)
    return Plan("robot_0", step, position, velocity, inputs, float(np.sum(inputs ** 2)), run_id="run")


def test_reference_is_exact_at_the_samples_and_between_them():
    plan = curved_plan()
    fine = 8  # the same inputs held over sub-steps step / 8: the exact trajectory between the samples
    position, velocity = rollout(plan.position[0], plan.velocity[0], np.repeat(plan.input, fine, axis=0),
                                 plan.step / fine)
    times = np.arange(plan.horizon * fine + 1) * (plan.step / fine)
    s, v, a = plan.reference_many(times)
    np.testing.assert_allclose(s, position, atol=1e-12)
    np.testing.assert_allclose(v, velocity, atol=1e-12)
    np.testing.assert_array_equal(a[:-1], np.repeat(plan.input, fine, axis=0))
    for i in (0, 5, 37, 95):
        single = plan.reference(times[i])
        for got, want in zip(single, (s[i], v[i], a[i])):
            np.testing.assert_array_equal(got, want)


def test_reference_holds_the_initial_state_before_the_start_and_extrapolates_after_the_end():
    plan = curved_plan()
    s, v, a = plan.reference(-3.0)
    np.testing.assert_array_equal(s, plan.position[0])
    np.testing.assert_array_equal(v, plan.velocity[0])
    np.testing.assert_array_equal(a, 0.0)
    s, v, a = plan.reference(plan.duration + 1.5)
    np.testing.assert_allclose(s, plan.position[-1] + 1.5 * plan.velocity[-1], atol=1e-12)
    np.testing.assert_array_equal(v, plan.velocity[-1])
    np.testing.assert_array_equal(a, 0.0)


def test_properties():
    plan = curved_plan(horizon=12, step=0.25)
    assert (plan.horizon, plan.dim, plan.duration) == (12, 3, 3.0)


@pytest.mark.parametrize("change, field", [
    (dict(position=np.zeros((13, 2))), "velocity"),
    (dict(velocity=np.zeros((12, 3))), "velocity"),
    (dict(input=np.zeros((13, 3))), "input"),
    (dict(position=np.zeros(13)), "position"),
    (dict(position=np.zeros((1, 3)), velocity=np.zeros((1, 3)), input=np.zeros((0, 3))), "position"),
    (dict(input=np.full((12, 3), np.nan)), "input"),
    (dict(step=0.0), "step"),
    (dict(step=float("inf")), "step"),
    (dict(cost=float("nan")), "cost"),
])
def test_a_malformed_plan_names_the_field(change, field):
    plan = curved_plan()
    data = dict(robot=plan.robot, step=plan.step, position=plan.position, velocity=plan.velocity,
                input=plan.input, cost=plan.cost)
    with pytest.raises(PlanError, match=f"^{field}:"):
        Plan(**{**data, **change})


def test_arrays_are_copied_and_read_only():
    inputs = np.ones((2, 1))
    plan = Plan("r", 1.0, [[0.0], [0.5], [2.0]], [[0.0], [1.0], [2.0]], inputs, 2.0)
    inputs[0] = 5.0
    assert plan.input[0, 0] == 1.0
    with pytest.raises(ValueError):
        plan.position[0, 0] = 1.0


def test_a_rounded_sample_instant_starts_its_own_interval():
    plan = curved_plan(horizon=50, step=0.1)
    assert np.floor(43 * 0.1 / 0.1) == 42  # 4.3 / 0.1 rounds below 43
    np.testing.assert_array_equal(plan.reference(43 * 0.1)[2], plan.input[43])
