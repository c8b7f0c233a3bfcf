"""Goal slots: robots sharing a terminal disc aim at distinct points of it, r_min apart with room to spare,
assigned once per mission; the formation's windows then meet no packed cost to go."""
import numpy as np

from dro_ros.mission.goal_slots import goal_slots, lattice, spacing
from dro_ros.mission.receding import window_target
from dro_ros.trajectory.scenarios import scenario_from_config


def formation(radius=1.0, n=8):
    """n robots in a row, far from their shared goal disc at (30, 30)."""
    return scenario_from_config({
        "dim": 2, "horizon": 20, "duration": 10.0, "r_min": 0.2,
        "initial": [[float(i), 0.0, 0.0, 0.0] for i in range(n)],
        "terminal": {"kind": "ball", "centre": [30.0, 30.0], "radius": radius, "velocity": [0.0, 0.0]},
        "communication": {"radius": 2.0}}).problem


def test_the_lattice_keeps_its_spacing_inside_the_disc_and_starts_at_the_centre():
    points = lattice(np.array([30.0, 30.0]), 1.0, 8, spacing(0.2))
    gaps = np.linalg.norm(points[:, None] - points[None], axis=-1)[np.triu_indices(8, 1)]
    assert gaps.min() >= 0.4 - 1e-12 and np.linalg.norm(points - 30.0, axis=1).max() <= 0.9
    np.testing.assert_allclose(points[0], [30.0, 30.0])
    assert lattice(np.zeros(2), 0.3, 8, spacing(0.2)) is None   # eight robots do not fit a 0.3 m disc


def test_robots_sharing_a_disc_get_distinct_slots_the_same_every_time():
    mission = formation()
    slots = goal_slots(mission)
    assert sorted(slots) == list(range(8))
    points = np.array([slots[i] for i in range(8)])
    assert len({tuple(p.round(9)) for p in points}) == 8
    np.testing.assert_array_equal(points, np.array([goal_slots(mission)[i] for i in range(8)]))
    # the robot furthest along +x takes a slot at least as far along +x as the one furthest back
    assert points[7, 0] >= points[0, 0]


def test_a_disc_too_small_for_its_robots_keeps_the_centre_for_all():
    mission = formation(radius=0.3)
    assert goal_slots(mission) == {}
    np.testing.assert_allclose(window_target(mission, _horizon(), 3, np.zeros(2)), [30.0, 30.0])


def test_the_window_pulls_each_robot_to_its_slot():
    mission = formation()
    slots = goal_slots(mission)
    for robot in range(8):
        np.testing.assert_allclose(window_target(mission, _horizon(), robot, np.zeros(2)), slots[robot])


def _horizon():
    from dro_ros.mission.receding import RecedingHorizon

    return RecedingHorizon(steps=20, period=1.0, duration=60.0)
