"""ADMM with a coordinator (Boyd et al. 2011): sharing and consensus forms over flex actors.

coordinator.py  messages, global objectives (target distance, target reach), the coordinator, results
local.py        what every actor shares: the LocalStep protocol, status and result
flex.py         the one-to-many flex actor and its closed-form local step
polytope.py     the general flex actor: outputs in a polytope, linear cost, x-update a QP (DAQP)
api.py          the reference API: create_* functions and start_coordinated_optimization; the
                coordinator of a multi-process run (`coordinator_agent`)
"""
from dro_ros.resource.admm.api import (SharingData, coordinator_agent, create_admm_flex_actor_one_to_many,
                                       create_admm_sharing_data, create_admm_start, create_admm_start_consensus,
                                       create_consensus_target_reach_admm_coordinator,
                                       create_sharing_target_distance_admm_coordinator,
                                       start_coordinated_optimization)
from dro_ros.resource.admm.coordinator import (AdmmCoordinator, AdmmError, AdmmOptions, AdmmResult, AdmmStart,
                                               AdmmStatus, TargetDistance, TargetReach)
from dro_ros.resource.admm.flex import FlexActor
from dro_ros.resource.admm.polytope import InfeasibleActorError, PolytopeFlexActor

__all__ = ["AdmmCoordinator", "AdmmError", "AdmmOptions", "AdmmResult", "AdmmStart", "AdmmStatus", "FlexActor",
           "InfeasibleActorError", "PolytopeFlexActor", "SharingData", "TargetDistance", "TargetReach",
           "coordinator_agent", "create_admm_flex_actor_one_to_many", "create_admm_sharing_data", "create_admm_start", "create_admm_start_consensus",
           "create_consensus_target_reach_admm_coordinator", "create_sharing_target_distance_admm_coordinator",
           "start_coordinated_optimization"]
