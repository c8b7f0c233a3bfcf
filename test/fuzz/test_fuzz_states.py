"""Fuzzed robot states: what a foreign process on the DDS domain could publish on `/fleet/states`.

The tracker drops non-finite states and new names beyond `MAX_HEARD`; every finite state, however far or
fast, reaches the separation filter, which must answer a finite command within the hang guard."""
import numpy as np
from fuzzing import fuzz_settings, no_hang
from hypothesis import given
from hypothesis import strategies as st

from dro_ros.fleet import SeparationFilter
from dro_ros.trajectory.obstacles import DiscObstacle, PolygonObstacle

FAR = st.floats(-1e6, 1e6)
NEAR = st.floats(-1.0, 1.0)
FILTER = SeparationFilter(0.195, obstacles=[DiscObstacle(np.array([0.4, 0.0]), 0.2),
                                            PolygonObstacle(np.array([[-1.0, -1.0], [-0.5, -1.0], [-0.5, -0.5]]))],
                          clearance=0.095)


def vectors(values):
    return st.tuples(values, values).map(np.array)


@fuzz_settings()
@given(nominal=vectors(FAR), neighbours=st.lists(st.tuples(vectors(st.one_of(NEAR, FAR)), vectors(FAR)), max_size=8))
def test_the_filter_answers_a_finite_command_for_any_finite_neighbours(nominal, neighbours):
    positions = np.array([p for p, _ in neighbours]).reshape(-1, 2)
    velocities = np.array([v for _, v in neighbours]).reshape(-1, 2)
    with no_hang():
        command = FILTER.command(nominal, np.zeros(2), positions, velocities)
    assert command.shape == (2,) and np.all(np.isfinite(command))
    rows, bounds, _ = FILTER.constraints(np.zeros(2), positions, velocities)
    if len(rows) and np.all(rows @ nominal >= bounds):
        assert command is nominal   # a command that keeps every bound is never changed
