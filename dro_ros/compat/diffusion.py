"""The reference package's diffusion (adapt-then-combine) over a scheduling horizon, and its actors.

Rounds as in `dro_ros.compat.consensus`: participant i holds lambda_i (a price per time step) and sends
its adapted iterate phi_i; holding every neighbour's phi_j(k) it combines and adapts

    lambda_i(k+1) = (phi_i(k) + sum_j phi_j(k)) / (|N_i| + 1)
    phi_i(k+1)    = lambda_i(k+1) - epsilon * grad J_i(lambda_i(k+1), data)

(Sayed, "Adaptive networks", Proc. IEEE 2014, ATC diffusion with uniform combination weights).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from dro_ros.compat.algorithm import OptimizationMessage
from dro_ros.compat.consensus import ConsensusActor, SynchronousRounds, demand_share, output_minus_share


class DiffusionActor(ConsensusActor):
    """grad J_i(lambda, data) of the adapt step (`gradient_term`, default 0)."""


class NoDiffusionActor(DiffusionActor):
    """Pure combination (grad J = 0)."""


@dataclass
class DiffusionMessage(OptimizationMessage):
    """phi of the sender at round k, the run's data, and whether it only starts the run."""

    phi: np.ndarray
    k: int
    data: Any
    initial: bool = False


class DiffusionAlgorithm(SynchronousRounds):
    """One diffusion participant; see the module docstring. `horizon` is the schedule length (informative:
    the start message's phi gives the dimension)."""

    message_type, value_field = DiffusionMessage, "phi"

    def __init__(self, finish_callback: Callable[[Any, Any], Any], diffusion_actor: DiffusionActor | None = None,
                 initial_lam: float = 10.0, epsilon: float = 0.1, max_iter: int = 300, horizon: int = 24) -> None:
        if not epsilon > 0:
            raise ValueError(f"epsilon: need a positive step, got {epsilon}")
        super().__init__(finish_callback, max_iter)
        self.actor = diffusion_actor if diffusion_actor is not None else NoDiffusionActor()
        self.initial_lam, self.epsilon, self.horizon = initial_lam, epsilon, horizon
        self._lam = np.array([initial_lam], dtype=float)
        self._phi = self._lam.copy()

    def _adapt(self) -> np.ndarray:
        self._phi = self._lam - self.epsilon * np.asarray(self.actor.gradient_term(self._lam, self._data), float)
        return self._phi

    def _begin(self, message: DiffusionMessage) -> np.ndarray:
        self._lam = np.ones(np.size(message.phi)) * float(self.initial_lam)
        return self._adapt()

    def _combine(self, values: list[np.ndarray]) -> np.ndarray:
        self._lam = (self._phi + sum(values)) / (len(values) + 1)
        return self._adapt()



def create_diffusion_participant(finish_callback: Callable[[Any, Any], Any],
                                 diffusion_actor: DiffusionActor | None = None, initial_lam: float = 10.0,
                                 epsilon: float = 0.1, max_iter: int = 300, horizon: int = 24) -> DiffusionAlgorithm:
    return DiffusionAlgorithm(finish_callback, diffusion_actor, initial_lam, epsilon, max_iter, horizon)


def create_diffusion_start(initial_lam: float, data: Any = None) -> DiffusionMessage:
    """The message that starts a run (flagged `initial`; its phi gives the dimension)."""
    return DiffusionMessage(phi=np.array([initial_lam], dtype=float), k=0, data=data, initial=True)


@dataclass
class LinearCostEconomicDispatchDiffusionActor(DiffusionActor):
    """grad J = P(lambda) - target / n_guess with P(lambda) = clip((lambda - c) / epsilon, p_min, p_max):
    the unit's output at price lambda minus its share of the demand (zero at the clearing price)."""

    cost: float
    p_max: float
    epsilon: float = 0.1
    p_min: float = 0.0
    n_guess: int = 10
    P: np.ndarray = field(default_factory=lambda: np.zeros(1))

    def gradient_term(self, lam: np.ndarray, p_target: Any) -> np.ndarray:
        return output_minus_share(self, lam, p_target)


@dataclass
class ReservoirStorageDiffusionActor(DiffusionActor):
    """A storage's response to a price schedule lambda(t), minus its share of the demand.

    Desired power (positive: discharge): (lambda_t - charge_cost) / epsilon, limited to
    [-p_charge_max, p_discharge_max], zero while charge_cost <= lambda_t <= charge_cost + discharge_cost.
    Then the final energy is steered to e_final * e_max by spreading the difference evenly over the
    horizon, and a forward pass (1 h steps, E(t+1) = E(t) - P/eta_discharge when discharging,
    E(t) - P eta_charge when charging) limits each step to what the state of charge [soc_min, soc_max]
    allows. `P` and `E` (energy at the start of each step) hold the latest schedule.
    """

    e_max: float
    p_charge_max: float
    p_discharge_max: float
    eta_charge: float = 0.95
    eta_discharge: float = 0.95
    e_initial: float = 0.5
    e_final: float = 0.5
    soc_min: float = 0.0
    soc_max: float = 1.0
    charge_cost: float = 0.0
    discharge_cost: float = 0.0
    epsilon: float = 0.1
    n_guess: int = 10
    P: np.ndarray = field(default_factory=lambda: np.zeros(1))
    E: np.ndarray = field(default_factory=lambda: np.zeros(1))

    def gradient_term(self, lam: np.ndarray, p_target: Any) -> np.ndarray:
        lam = np.asarray(lam, dtype=float)
        desired = np.clip((lam - self.charge_cost) / self.epsilon, -self.p_charge_max, self.p_discharge_max)
        idle = (lam >= self.charge_cost) & (lam <= self.charge_cost + self.discharge_cost)
        desired[idle] = 0.0
        energy_out = np.where(desired >= 0, desired / self.eta_discharge, desired * self.eta_charge).sum()
        gap = (self.e_initial - self.e_final) * self.e_max - energy_out  # energy still to release (+) or store
        desired = np.clip(desired + gap / lam.size, -self.p_charge_max, self.p_discharge_max)
        self.P, self.E = self._feasible(desired)
        return self.P - demand_share(p_target, self.n_guess)

    def _feasible(self, desired: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        low, high = self.soc_min * self.e_max, self.soc_max * self.e_max
        power, energy = np.zeros_like(desired), np.zeros_like(desired)
        level = self.e_initial * self.e_max
        for t, p in enumerate(desired):
            energy[t] = level
            if p >= 0:
                p = min(p, max(level - low, 0.0) * self.eta_discharge)
                level -= p / self.eta_discharge
            else:
                p = max(p, -max(high - level, 0.0) / self.eta_charge)
                level -= p * self.eta_charge
            power[t] = p
        return power, energy
