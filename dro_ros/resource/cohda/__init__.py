"""COHDA (Hinrichs, Lehnhoff, Sonnenschein): a combinatorial heuristic for distributed agents.

configuration.py  configurations and the objective (eq. 1-3)
messages.py       the wire messages (Start, Update)
participant.py    the agent: perceive / choose / publish, termination
api.py            create_cohda_participant, create_cohda_start_message, start_distributed_optimization
evaluation.py     brute-force optimum and the paper's normalised fitness, for tests and benchmarks
"""
from dro_ros.resource.cohda.api import (CohdaRunResult, cohda_agent, create_cohda_participant,
                                        create_cohda_start_message, start_distributed_optimization)
from dro_ros.resource.cohda.configuration import Configuration, Objective, TargetParams
from dro_ros.resource.cohda.participant import CohdaParticipant, CohdaResult, CohdaStatus, WorkingMemory

__all__ = ["CohdaParticipant", "CohdaResult", "CohdaRunResult", "CohdaStatus", "Configuration", "Objective",
           "TargetParams", "WorkingMemory", "cohda_agent", "create_cohda_participant", "create_cohda_start_message",
           "start_distributed_optimization"]
