"""The three README examples of reference 000, with only the import name changed."""
import asyncio

import numpy as np
import pytest


def test_sharing_example_reaches_the_exact_optimum():
    from dro_ros import (create_admm_flex_actor_one_to_many, create_admm_sharing_data, create_admm_start,
                         create_sharing_target_distance_admm_coordinator, start_coordinated_optimization)

    async def main():
        flex1 = create_admm_flex_actor_one_to_many(10, [0.1, 0.5, -1.0])
        flex2 = create_admm_flex_actor_one_to_many(15, [0.1, 0.5, -1.0])
        flex3 = create_admm_flex_actor_one_to_many(10, [-1.0, 0.0, 1.0])
        coordinator = create_sharing_target_distance_admm_coordinator()
        start = create_admm_start(create_admm_sharing_data([-4, 0, 6], [5, 1, 1]))
        result = await start_coordinated_optimization([flex1, flex2, flex3], coordinator, start)
        return flex1.x, flex2.x, flex3.x, result

    x1, x2, x3, result = asyncio.run(main())
    assert np.allclose(x3, [-4, 0, 4], atol=1e-3)  # the reference prints [-3.983, 0, 3.983]: an early stop
    assert np.allclose(x1, 0, atol=1e-3) and np.allclose(x2, 0, atol=1e-3)
    assert result.status.value == "converged" and abs(result.objective - 2.0) < 1e-4


def test_cohda_example_runs_and_matches_the_best_sum():
    from dro_ros import create_cohda_participant, create_cohda_start_message, start_distributed_optimization

    async def main():
        actor1 = create_cohda_participant(1, [[0.0, 1, 2], [1, 2, 3]])
        actor2 = create_cohda_participant(2, [[0.0, 1, 2], [1, 2, 3]])
        start = create_cohda_start_message([1.2, 2.0, 3.0])
        await start_distributed_optimization([actor1, actor2], start)
        return actor1.memory.solution_candidate.schedules.sum(axis=0)

    # candidates: [0,2,4], [1,3,5], [2,4,6]; L1 distances to [1.2, 2, 3]: 2.2, 2.8, 5.8
    assert np.array_equal(asyncio.run(main()), [0.0, 2.0, 4.0])


def test_container_example_completes():
    from dro_ros import (ActorContainer, SimpleCarrier, cid, create_cohda_participant,
                         create_cohda_start_message)

    async def main():
        container = ActorContainer()
        c1 = SimpleCarrier(container, create_cohda_participant(1, [[0.0, 1, 2], [1, 2, 3]]))
        c2 = SimpleCarrier(container, create_cohda_participant(2, [[0.0, 1, 2], [1, 2, 3]]))
        start = create_cohda_start_message([1.2, 2.0, 3.0])
        c1.send_to_other(start, cid(c2))
        await asyncio.wait_for(container.done_event.wait(), 10)
        return c1.agent, c2.agent

    first, second = asyncio.run(main())
    assert np.allclose(first.memory.solution_candidate.schedules.sum(axis=0), [0, 2, 4])
    assert first.result().objective == second.result().objective == pytest.approx(2.2)
