"""FleetSimulator: the velocity loop a = (v_cmd - v) / lag under zero-order hold, saturation, distances."""
import itertools

import numpy as np
import pytest

from dro_ros.fleet import FleetSimulator


def test_a_robot_already_at_its_command_moves_at_that_velocity_exactly():
    sim = FleetSimulator([[1.0, 2.0]], [[0.5, -0.25]])
    sim.set_command(0, [0.5, -0.25])
    for _ in range(300):
        sim.step(0.01)
    np.testing.assert_allclose(sim.position[0], [1.0 + 1.5, 2.0 - 0.75], atol=1e-12)
    np.testing.assert_array_equal(sim.velocity[0], [0.5, -0.25])
    assert sim.time == pytest.approx(3.0)


def test_an_uncommanded_robot_keeps_its_velocity():
    sim = FleetSimulator([[0.0], [5.0]], [[1.0], [-2.0]])
    sim.step(0.01)
    sim.step(0.015)
    np.testing.assert_allclose(sim.position[:, 0], [0.025, 5.0 - 0.05], atol=1e-15)
    np.testing.assert_array_equal(sim.velocity[:, 0], [1.0, -2.0])


def test_the_velocity_approaches_the_command_as_the_discrete_first_order_loop():
    lag, dt, command = 0.1, 0.01, np.array([2.0, -1.0, 0.5])
    sim = FleetSimulator(np.zeros((1, 3)), np.zeros((1, 3)), lag=lag)
    sim.set_command(0, command)
    for n in range(1, 51):
        sim.step(dt)
        # v_n = c (1 - (1 - dt / lag)^n), s_n = sum over steps of v dt + a dt^2 / 2
        np.testing.assert_allclose(sim.velocity[0], command * (1 - (1 - dt / lag) ** n), rtol=1e-12)
    decay = (1 - dt / lag) ** np.arange(50)[:, None]
    travelled = np.sum(command * (1 - decay) * dt + command * decay / lag * dt * dt / 2, axis=0)
    np.testing.assert_allclose(sim.position[0], travelled, rtol=1e-12)


def test_max_accel_saturates_the_norm_of_the_acceleration():
    sim = FleetSimulator(np.zeros((1, 2)), np.zeros((1, 2)), lag=0.1, max_accel=0.5)
    sim.set_command(0, [3.0, 4.0])  # unsaturated a would be 50 m/s^2 along (0.6, 0.8)
    for _ in range(100):
        sim.step(0.01)
    np.testing.assert_allclose(sim.velocity[0], [0.3, 0.4], rtol=1e-12)
    np.testing.assert_allclose(sim.position[0], [0.15, 0.2], rtol=1e-12)


def test_a_long_step_is_split_and_stays_stable():
    sim = FleetSimulator([[0.0]], [[0.0]], lag=0.1)
    sim.set_command(0, [1.0])
    sim.step(1.0)  # one explicit hold over 10 lags would give v = 10
    assert 0.99 < sim.velocity[0, 0] <= 1.0
    assert sim.time == 1.0


def test_min_distance_finds_the_closest_pair():
    rng = np.random.default_rng(7)
    position = rng.uniform(-10, 10, size=(40, 3))
    sim = FleetSimulator(position, np.zeros_like(position))
    distance, pair = sim.min_distance()
    brute = min((np.linalg.norm(position[i] - position[j]), (i, j))
                for i, j in itertools.combinations(range(40), 2))
    assert distance == pytest.approx(brute[0], rel=1e-12) and pair == brute[1]
    assert FleetSimulator([[1.0, 1.0]], [[0.0, 0.0]]).min_distance() == (np.inf, None)


@pytest.mark.parametrize("args, field", [
    (dict(position=np.zeros(3), velocity=np.zeros(3)), "position"),
    (dict(position=np.zeros((2, 4)), velocity=np.zeros((2, 4))), "position"),
    (dict(position=np.zeros((2, 2)), velocity=np.zeros((2, 3))), "velocity"),
    (dict(position=np.zeros((2, 2)), velocity=np.zeros((2, 2)), lag=0.0), "lag"),
    (dict(position=np.zeros((2, 2)), velocity=np.zeros((2, 2)), max_accel=-1.0), "max_accel"),
])
def test_bad_construction_names_the_field(args, field):
    with pytest.raises(ValueError, match=f"^{field}:"):
        FleetSimulator(**args)


def test_bad_commands_are_rejected():
    sim = FleetSimulator(np.zeros((2, 2)), np.zeros((2, 2)))
    with pytest.raises(IndexError):
        sim.set_command(2, [0.0, 0.0])
    with pytest.raises(ValueError, match="v_cmd"):
        sim.set_command(0, [0.0, 0.0, 0.0])
    with pytest.raises(ValueError, match="v_cmd"):
        sim.set_command(0, [np.nan, 0.0])
