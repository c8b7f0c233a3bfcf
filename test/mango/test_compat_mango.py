"""dro_ros.compat's mango roles (the reference's MangoCarrier API) run ADMM to the in-process optimum."""
from __future__ import annotations

import asyncio

import numpy as np
import pytest

mango = pytest.importorskip("mango")

import dro_ros.compat as dro  # noqa: E402
from dro_ros.resource.admm.coordinator import AdmmStatus  # noqa: E402


def test_consensus_admm_through_mango_roles_gives_the_in_process_answer():
    async def run() -> tuple[list, list]:
        container = mango.create_tcp_container(("127.0.0.1", 0), auto_port=True)
        flexes = [dro.create_admm_flex_actor_one_to_many(10, [0.6, 0.4]) for _ in range(2)]
        roles = [dro.DistributedOptimizationRole(flex) for flex in flexes]
        coordinator_role = dro.CoordinatorRole(dro.create_consensus_target_reach_admm_coordinator())
        agents = [container.register(mango.agent_composed_of(role)) for role in roles]
        coordinator = container.register(mango.agent_composed_of(coordinator_role))
        with mango.create_topology() as topology:
            hub = topology.add_node(coordinator)
            for agent in agents:
                topology.add_edge(hub, topology.add_node(agent))
        async with mango.activate(container):
            await coordinator.send_message(
                dro.StartCoordinatedDistributedOptimization(dro.create_admm_start_consensus([1.0, 2.0])),
                coordinator.addr)
            await asyncio.sleep(0)
            results = await coordinator_role.wait_done(timeout=60)
        reference = [dro.create_admm_flex_actor_one_to_many(10, [0.6, 0.4]) for _ in range(2)]
        coordinator_here = dro.create_consensus_target_reach_admm_coordinator()
        local = await dro.start_coordinated_optimization(reference, coordinator_here,
                                                         dro.create_admm_start_consensus([1.0, 2.0]))
        return results, local

    results, local = asyncio.run(run())
    # over mango the generic loop runs (the actors are remote); in process dro_ros's coordinator does
    assert results.status is AdmmStatus.CONVERGED and local.status is AdmmStatus.CONVERGED
    eta = np.array([0.6, 0.4])
    expected = eta * (eta @ [1.0, 2.0]) / (eta @ eta) / 2
    for x, y in zip(results, local):
        assert np.allclose(x, expected, atol=1e-5) and np.allclose(y, expected, atol=1e-5)
