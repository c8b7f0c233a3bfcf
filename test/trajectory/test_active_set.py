"""Exact QP re-solves from a guessed active set (`active_set.ActiveSetQp`): the Ipopt optimum, only for
QP stages, a clear give-up, and NC-ADMM's iterates unchanged by them."""
import numpy as np
import pytest

from dro_ros.trajectory.active_set import EXACT, ActiveSetQp
from dro_ros.trajectory.nc_admm import run_nc_admm
from dro_ros.trajectory.scenarios import formation2d, platoon
from dro_ros.trajectory.stage import Stage


@pytest.fixture(scope="module")
def neighbourhood():
    """P_1 of NC-ADMM on a 4-robot platoon, its parameters at two nearby z, and the Ipopt optimum at both."""
    problem = platoon(4, horizon=60, duration=30.0, limits=False).problem
    stage = Stage(problem, [0, 1, 2], admm=True, ipopt={"tol": 1e-10})
    rng = np.random.default_rng(3)
    z = {a: 0.05 * rng.standard_normal((problem.horizon, 1)) for a in stage.free}
    moved = {a: z[a] + 1e-3 * rng.standard_normal(z[a].shape) for a in stage.free}
    first, second = (stage.parameters(weights=[0.5, 1 / 3, 1 / 3], z=values, rho=1.0) for values in (z, moved))
    return stage, first, second, stage.solve(first), stage.solve(second)


def test_a_qp_stage_is_resolved_exactly_from_the_previous_active_set(neighbourhood):
    stage, first, second, before, ipopt = neighbourhood
    qp = ActiveSetQp(stage)
    active = qp.active_rows(before, first)
    assert qp.applicable and 0 < active.sum() < active.size       # the ordering binds somewhere, not everywhere
    exact = qp.solve(second, active)
    assert exact is not None and exact.return_status == EXACT and exact.iterations <= 3
    assert exact.objective == pytest.approx(ipopt.objective, rel=1e-7)
    assert stage.inequality_values(exact.primal, second).max() <= 1e-9
    for agent in stage.free:
        assert np.abs(exact.inputs[agent] - ipopt.inputs[agent]).max() <= 1e-5


def test_an_unsettled_active_set_gives_up_instead_of_returning_a_wrong_point(neighbourhood):
    stage, _, second, _, _ = neighbourhood
    assert ActiveSetQp(stage, max_rounds=1).solve(second, np.zeros(stage.n_inequalities, dtype=bool)) is None


@pytest.mark.parametrize("problem", [platoon(4, horizon=20).problem,                 # speed and input rows
                                     formation2d().problem])                          # collision rows
def test_a_stage_with_nonlinear_rows_is_not_resolved(problem):
    qp = ActiveSetQp(Stage(problem, [0, 1]))
    assert not qp.applicable and qp.solve(np.zeros(0), np.zeros(0, dtype=bool)) is None


def test_nc_admm_iterates_are_those_of_ipopt_only_with_fewer_ipopt_solves():
    scenario = platoon(4, horizon=40, duration=20.0, limits=False)
    exact = run_nc_admm(scenario, stop="residual", eps=1e-8)
    ipopt = run_nc_admm(scenario, stop="residual", eps=1e-8, active_set=False)
    assert exact.ok and ipopt.ok and exact.rounds == ipopt.rounds
    assert exact.objective == pytest.approx(ipopt.objective, rel=1e-7)
    assert np.allclose(exact.details["residuals"], ipopt.details["residuals"], rtol=1e-3, atol=1e-9)
    assert ipopt.details["exact_solves"] == 0
    assert exact.details["exact_solves"] >= 0.9 * 4 * (exact.rounds - 1)   # of the re-solves after iteration 1
