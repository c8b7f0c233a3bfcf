"""The cost to go around obstacles (`mission.route`): shortest routes on the corners' visibility graph, and a
robot facing a square head on reaching its goal in a receding-horizon mission instead of stopping at the face."""
import math

import numpy as np
import pytest

from dro_ros.mission import route as route_module
from dro_ros.mission.receding import receding_from_config
from dro_ros.mission.receding_sim import simulated_loop
from dro_ros.mission.route import route, route_target, segment_distances
from dro_ros.trajectory.obstacles import DiscObstacle, PolygonObstacle
from dro_ros.trajectory.path_sweep import run_path_sweep
from dro_ros.trajectory.scenarios import scenario_from_config

SQUARE = PolygonObstacle(np.array([[-1.0, -1.0], [1.0, -1.0], [1.0, 1.0], [-1.0, 1.0]]))


def test_the_route_around_a_square_is_the_shortest_way_past_its_grown_corners():
    path = route([-8, 0], [8, 0], [SQUARE], clearance=0.1, margin=0.3)
    corner = 1.0 + 0.4                       # the square grown by clearance + margin
    expected = 2 * math.hypot(8 - corner, corner) + 2 * corner
    assert np.sum(np.linalg.norm(np.diff(path, axis=0), axis=1)) == pytest.approx(expected)
    assert np.allclose(np.abs(path[1:-1]), corner)
    assert np.all(segment_distances(SQUARE, path[:-1], path[1:]) >= 0.1 + 0.3 / 2 - 1e-9)


def test_the_target_is_the_goal_unless_a_polygon_is_in_the_way():
    disc = DiscObstacle(np.array([0.0, 0.0]), 1.0)
    options = dict(clearance=0.1, margin=0.3, reach=5.0)
    assert np.allclose(route_target([-8, 3], [8, 3], [SQUARE], **options), [8, 3])     # clear line
    assert np.allclose(route_target([-8, 0], [8, 0], [disc], **options), [8, 0])       # a disc: slide round it
    target = route_target([-8, 0], [8, 0], [SQUARE], **options)
    assert np.linalg.norm(target - [-8, 0]) == pytest.approx(5.0) and target[1] > 0   # 5 m along the route
    assert np.allclose(route_target([-1.6, 0.0], [8, 0], [SQUARE], **options), [-1.4, 1.4])  # the corner first


def test_a_robot_facing_a_square_head_on_goes_round_it_to_its_goal(monkeypatch):
    config = {
        "name": "face", "dim": 2, "horizon": 120, "duration": 30.0, "r_min": 0.3, "max_speed": 1.0,
        "max_input": 0.5, "initial": [[-5, 0, 0, 0], [-5, -4, 0, 0]],
        "terminal": [{"kind": "fixed", "position": [5, 0], "velocity": [0, 0]},
                     {"kind": "fixed", "position": [5, -4], "velocity": [0, 0]}],
        "communication": {"radius": 10.0},
        "obstacles": [SQUARE.to_config()],
        "receding_horizon": {"steps": 16, "period": 1.0, "duration": 30.0},
    }

    def mission():
        scenario = scenario_from_config(config)
        horizon, disturbances = receding_from_config(config, 2, 2)
        return simulated_loop(scenario.problem, horizon, lambda s: run_path_sweep(s), algorithm="test",
                              communication=config["communication"], disturbances=disturbances).run()

    run = mission()
    assert run.succeeded, run.summary()
    assert run.min_clearance >= 0.0   # the mission's clearance (default 0): never inside the square
    monkeypatch.setattr(route_module, "route", lambda start, goal, *_: np.stack([start, goal]))
    stuck = mission()   # the straight pull: robot 0 stops in front of the face
    assert not stuck.succeeded and stuck.reached[0] is None and stuck.reached[1] is not None
