"""Distributed termination detection by weight throwing, with no central observer.

Huang's weight throwing (Huang 1989; Mattern's "credit recovery"), routed along the engagement tree so
that every message travels between neighbours only:

* The agent that starts the computation is the root and holds credit 1. Every other agent holds 0.
* A basic (algorithm) message carries a positive piece of its sender's credit; the sender keeps the
  rest. `split(count)` gives each of `count` messages the largest power of two not above
  credit / (count + 1), so the sender always keeps a positive remainder and every piece is dyadic.
* The first agent an agent ever receives a basic message from becomes its parent (Dijkstra-Scholten's
  engagement tree; the parent was engaged earlier, so parent links lead to the root).
* A passive agent returns all it holds to its parent in a control message (`Credit`); a parent that
  receives credit adds it and, being passive too, passes it on in the same way. Control messages carry
  no new work, so they never make anybody active.
* Invariant: root credit + credit held by non-root agents + credit in transit (in basic and control
  messages) = 1, with every basic message in transit carrying a positive share. Hence when the passive
  root holds exactly 1, no agent holds credit, no basic message is in transit and every agent is passive:
  the computation has terminated. The root then floods `Stop` (each agent forwards the first `Stop` it
  gets to its other neighbours), so every agent learns it and can set `finished`.

Credits are exact rationals (`fractions.Fraction`, dyadic), sent as text ("p/q"), so no rounding ever
makes the total miss 1 or reach it early.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction

from dro_ros.core.carrier import MessageRejected
from dro_ros.core.codec import wire_message

WHOLE = Fraction(1)
MAX_CREDIT_DIGITS = 4000
"""Digits of a credit's numerator or denominator (a dyadic share 2^-k needs k * 0.3 digits)."""
CREDIT_TEXT = re.compile(rf"[0-9]{{1,{MAX_CREDIT_DIGITS}}}/[0-9]{{1,{MAX_CREDIT_DIGITS}}}")


@wire_message("termination")
@dataclass
class Credit:
    """Credit returned toward the root along the engagement tree (a control message)."""

    credit: str


@wire_message("termination")
@dataclass
class Stop:
    """Flooded once termination is detected (or the run failed); `reason` says which."""

    reason: str


def encode_credit(credit: Fraction) -> str:
    return f"{credit.numerator}/{credit.denominator}"


def decode_credit(text: str, sender: str) -> Fraction:
    """Parse a credit sent by `sender`; refuses anything that is not a rational in (0, 1]."""
    if not CREDIT_TEXT.fullmatch(text):   # not Fraction's other forms: "1e-999999999" would take forever
        raise MessageRejected(f"credit from {sender}: {text[:40]!r} is not a fraction p/q of at most "
                              f"{MAX_CREDIT_DIGITS} digits each")
    try:
        credit = Fraction(text)
    except (ValueError, ZeroDivisionError):
        raise MessageRejected(f"credit from {sender}: {text[:40]!r} is not a rational number") from None
    if not 0 < credit <= WHOLE:
        raise MessageRejected(f"credit from {sender}: {text[:40]} is outside (0, 1]")
    return credit


class WeightThrowing:
    """One agent's side of the detector (see the module docstring); the agent calls it around its work."""

    def __init__(self) -> None:
        self.credit = Fraction(0)
        self.parent: str | None = None
        self.is_root = False

    @property
    def engaged(self) -> bool:
        return self.is_root or self.parent is not None

    def start_as_root(self) -> None:
        if self.engaged:
            raise ValueError("a second start: this agent already takes part in a computation")
        self.is_root = True
        self.credit = WHOLE

    def on_basic(self, sender: str, credit_text: str) -> None:
        """A basic message arrived from `sender` with a share of credit."""
        credit = decode_credit(credit_text, sender)
        if not self.engaged:
            self.parent = sender
        self.credit += credit

    def on_credit(self, sender: str, credit_text: str) -> None:
        """A `Credit` control message arrived (from a child: credit never flows from a parent to its child, so
        credit from this agent's own parent means a cycle in the tree, made by a replayed or forged message,
        around which the credit would circle for ever)."""
        credit = decode_credit(credit_text, sender)
        if sender == self.parent:
            raise MessageRejected(f"credit from {sender}: it is this agent's parent (a cycle in the engagement "
                                  f"tree: a replayed or forged message)")
        self.credit += credit

    def split(self, count: int) -> str:
        """The credit to attach to each of `count` basic messages about to be sent (as text)."""
        if self.credit <= 0:
            raise RuntimeError("sending a basic message without credit: the agent is not engaged")
        share = self.credit / (count + 1)
        exponent = max(0, (share.denominator.bit_length() - share.numerator.bit_length()))
        piece = Fraction(1, 2 ** exponent)
        while piece > share:
            piece /= 2
        self.credit -= piece * count
        return encode_credit(piece)

    def take_returnable(self) -> tuple[str, str] | None:
        """(parent, credit text) to send when passive, emptying this agent's credit; None for the root."""
        if self.is_root or self.credit == 0 or self.parent is None:
            return None
        credit, self.credit = self.credit, Fraction(0)
        return self.parent, encode_credit(credit)

    @property
    def terminated(self) -> bool:
        """True at the root once it holds all the credit again (to be asked while the root is passive)."""
        return self.is_root and self.credit == WHOLE
