"""A peer's attestation as the reviewer of the claim reads it: who, what kind, their words,
and every scaffolding answer with the level it reaches.

The reviewer sees the answers as stored, "no" and "not sure" included, since those are what
decide whether a required level is met (the credential later carries only what the peer
affirmed, OB 3.0 §B.1.5 alignments). The levels are those of
:mod:`issuer.services.attestation_scaffolding`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from issuer.services.attestation_scaffolding import (
    CHARACTERISTICS,
    answers_of,
    item,
    level_of,
    level_words,
)
from issuer.services.attestation_wording import SCAFFOLDING_KINDS
from issuer.storage.learning import Attestation

__all__ = ["ReviewAttestation", "review_attestations"]

_SAID = {True: "Yes", False: "No", None: "Not sure, or not answered"}


@dataclass(frozen=True)
class ReviewAttestation:
    row: Attestation
    #: The peer as the reviewer may name them: name, or pseudonym for an unnamed peer.
    label: str
    #: The scaffolding functions the peer ticked, in plain words about the learner.
    help_given: tuple[str, ...]
    #: Each question on how the help was given, with the peer's answer.
    answers: tuple[tuple[str, str], ...]
    #: Later work the peer did unaided, as they link to it (only when they said they can).
    transfer_url: str | None
    #: The level this attestation reaches, e.g. "L2 Responsive help"; None when the
    #: statement is not about help given.
    level: str | None


def _answers(row: Attestation) -> tuple[tuple[str, str], ...]:
    said = {"contingency": row.contingency, "fading": row.fading, "transfer": row.transfer}
    return tuple((c.peer, _SAID[said[c.code]]) for c in CHARACTERISTICS)


def review_attestations(rows: Sequence[tuple[Attestation, str]]) -> list[ReviewAttestation]:
    """``rows`` (an attestation and the peer's label) as the claim page shows them."""
    shown = []
    for row, label in rows:
        answers = answers_of(row)
        about_help = row.kind in SCAFFOLDING_KINDS
        shown.append(ReviewAttestation(
            row=row, label=label,
            help_given=tuple(found.reader for found in map(item, answers.functions)
                             if found is not None),
            answers=_answers(row) if about_help else (),
            transfer_url=(answers.transfer_url if answers.transfer and answers.transfer_url
                          and answers.transfer_url.lower().startswith(("https://", "http://"))
                          else None),
            level=level_words(level_of(answers)) if about_help else None))
    return shown
