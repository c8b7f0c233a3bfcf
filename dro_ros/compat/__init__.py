"""Drop-in surface of the reference package `distributed-resource-optimization`.

A program written for it runs on dro_ros with one changed line:

    import dro_ros.compat as distributed_resource_optimization

Every public name of the reference is here with its call signature and meaning; where the reference
stops early or has a defect dro_ros returns the exact answer (README, "Drop-in for
distributed-resource-optimization", lists each difference). dro_ros's own API (`dro_ros.resource.*`,
result objects with a status) stays the primary one; this package translates to it where it can.

algorithm.py       DistributedAlgorithm, Coordinator, OptimizationMessage (the how-to base classes)
carrier.py         Carrier, SimpleCarrier, ActorContainer, cid, start_* (copies every message)
admm.py            ADMM messages, global actors, ADMMGenericCoordinator, flex actors
cohda.py           COHDA data model: ScheduleSelection ... perceive / decide / act
cohda_decider.py   LocalSearchDecider (flexibility corridors)
consensus.py       averaging consensus and the economic-dispatch gradient actor
diffusion.py       diffusion (adapt-then-combine) and its dispatch/storage actors
mango.py           MangoCarrier and the mango roles (needs the `mango` extra)
"""
from dro_ros.compat.admm import (ADMMAnswer, ADMMConsensusGlobalActor, ADMMFlexActor,  # noqa: F401
                                 ADMMGenericCoordinator, ADMMGlobalActor, ADMMGlobalObjective, ADMMMessage,
                                 ADMMSharingData, ADMMSharingGlobalActor, ADMMStart, ADMMTargetDistanceObjective,
                                 AdmmRunResults, admm_flex_result, create_admm_flex_actor_one_to_many,
                                 create_admm_sharing_data, create_admm_start, create_admm_start_consensus,
                                 create_consensus_target_reach_admm_coordinator, create_sharing_admm_coordinator,
                                 create_sharing_admm_start, create_sharing_target_distance_admm_coordinator)
from dro_ros.compat.algorithm import (CoordinatedDistributedAlgorithm, Coordinator,  # noqa: F401
                                      DistributedAlgorithm, OptimizationMessage, on_exchange_message,
                                      start_optimization)
from dro_ros.compat.carrier import (ActorContainer, Carrier, EventWithValue, SimpleCarrier, cid,  # noqa: F401
                                    start_coordinated_optimization, start_distributed_optimization)
from dro_ros.compat.cohda import (COHDAAlgorithmData, DefaultLocalDecider, LocalDecider,  # noqa: F401
                                  ScheduleSelection, SolutionCandidate, SystemConfig, TargetParams, WorkingMemory,
                                  act, cohda_default_performance, cohda_result, create_cohda_participant,
                                  create_cohda_participant_with_decider, create_cohda_start_message,
                                  create_from_updated_sysconf, decide, merge_candidates, merge_sysconfigs,
                                  perceive)
from dro_ros.compat.cohda_decider import (LocalSearchDecider, _find_in_local_search_room,  # noqa: F401
                                          _find_new_value)
from dro_ros.compat.consensus import (AveragingConsensusAlgorithm, AveragingConsensusMessage,  # noqa: F401
                                      ConsensusActor, ConsensusFinishedMessage,
                                      LinearCostEconomicDispatchConsensusActor, NoConsensusActor,
                                      create_averaging_consensus_participant, create_averaging_consensus_start)
from dro_ros.compat.diffusion import (DiffusionActor, DiffusionAlgorithm, DiffusionMessage,  # noqa: F401
                                      LinearCostEconomicDispatchDiffusionActor, NoDiffusionActor,
                                      ReservoirStorageDiffusionActor, create_diffusion_participant,
                                      create_diffusion_start)

__all__ = [
    "Carrier", "EventWithValue", "ActorContainer", "SimpleCarrier", "cid", "start_distributed_optimization",
    "start_coordinated_optimization",
    "DistributedAlgorithm", "Coordinator", "CoordinatedDistributedAlgorithm", "OptimizationMessage",
    "on_exchange_message", "start_optimization",
    "ScheduleSelection", "SystemConfig", "SolutionCandidate", "TargetParams", "WorkingMemory", "COHDAAlgorithmData",
    "LocalDecider", "DefaultLocalDecider", "LocalSearchDecider", "cohda_default_performance", "merge_sysconfigs",
    "merge_candidates", "perceive", "decide", "act", "create_from_updated_sysconf", "create_cohda_start_message",
    "create_cohda_participant", "create_cohda_participant_with_decider", "cohda_result",
    "ADMMStart", "ADMMMessage", "ADMMAnswer", "ADMMGlobalActor", "ADMMGlobalObjective", "ADMMGenericCoordinator",
    "create_admm_start", "ADMMFlexActor", "create_admm_flex_actor_one_to_many", "admm_flex_result",
    "ADMMConsensusGlobalActor", "create_consensus_target_reach_admm_coordinator", "create_admm_start_consensus",
    "ADMMSharingData", "ADMMSharingGlobalActor", "ADMMTargetDistanceObjective", "create_admm_sharing_data",
    "create_sharing_admm_start", "create_sharing_target_distance_admm_coordinator",
    "create_sharing_admm_coordinator", "AdmmRunResults",
    "ConsensusActor", "NoConsensusActor", "AveragingConsensusMessage", "ConsensusFinishedMessage",
    "AveragingConsensusAlgorithm", "create_averaging_consensus_participant", "create_averaging_consensus_start",
    "LinearCostEconomicDispatchConsensusActor",
    "DiffusionActor", "NoDiffusionActor", "DiffusionMessage", "DiffusionAlgorithm", "create_diffusion_participant",
    "create_diffusion_start", "LinearCostEconomicDispatchDiffusionActor", "ReservoirStorageDiffusionActor",
]

try:  # the mango carrier needs the optional `mango` extra (mango-agents)
    from dro_ros.compat.mango import (CoordinatorRole, DistributedOptimizationRole, MangoCarrier,  # noqa: F401
                                      OptimizationFinishedMessage, StartCoordinatedDistributedOptimization)
except ImportError:  # pragma: no cover - depends on the installed extras
    pass
else:
    __all__ += ["MangoCarrier", "DistributedOptimizationRole", "CoordinatorRole",
                "StartCoordinatedDistributedOptimization", "OptimizationFinishedMessage"]
