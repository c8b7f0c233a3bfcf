"""One measure per constraint kind: the checker and NC-ADMM's feasibility residual see the same violation."""
import numpy as np
import pytest

from dro_ros.trajectory.checker import check
from dro_ros.trajectory.nc_admm import local_infeasibility
from dro_ros.trajectory.problem import BallTerminal, FixedTerminal, FleetProblem


def two_robots_at_rest(terminal, r_min=0.2):
    """Two robots resting 1 m apart for 10 steps with zero input; robot 0 must end at `terminal`."""
    initial = np.array([[0.0, 0.0, 0.0, 0.0], [1.0, 0.0, 0.0, 0.0]])
    far = FixedTerminal(np.array([1.0, 0.0]), np.zeros(2))
    return FleetProblem(dim=2, horizon=10, step=0.1, initial=initial, terminals=(terminal, far), r_min=r_min,
                        coupling="collision", max_speed=None, max_input=None)


@pytest.mark.parametrize("terminal, miss", [
    (FixedTerminal(np.array([3.0, 4.0]), np.zeros(2)), 5.0),                    # ||(3, 4)||, not max |.| = 4
    (BallTerminal(centre=np.array([3.0, 4.0]), radius=1.0, velocity=np.zeros(2)), 4.0),
])
def test_a_missed_terminal_is_the_same_distance_for_the_checker_and_nc_admm(terminal, miss):
    problem = two_robots_at_rest(terminal)
    rest = np.zeros((2, 10, 2))
    report = check(problem, rest)
    assert report.violations["terminal_position"] == pytest.approx(miss)
    assert report.max_violation == pytest.approx(miss)
    assert local_infeasibility(problem, 0, {0: rest[0], 1: rest[1]}) == pytest.approx(miss ** 2)


def test_robots_closer_than_r_min_violate_the_coupling_by_the_same_amount():
    problem = two_robots_at_rest(FixedTerminal(np.zeros(2), np.zeros(2)), r_min=1.5)
    rest = np.zeros((2, 10, 2))
    assert check(problem, rest).violations["collision"] == pytest.approx(0.5)
    assert local_infeasibility(problem, 0, {0: rest[0], 1: rest[1]}) == pytest.approx(11 * 0.5 ** 2)   # t = 0..10
