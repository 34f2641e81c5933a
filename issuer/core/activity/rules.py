"""Counting help honestly: one person's activity in an archive, under rules that resist gaming.

What is counted is help that the person helped acknowledged: an answer they accepted, a
topic they marked solved, a reply in which they thanked its author. Follower, like, boost
and score counts are never a criterion: they measure reach, and they are cheap to inflate.
A reaction (a like) is recorded by the importers but counted nowhere here.

The rules (each function cites the one it applies):

- R1, one per person per window: at most one acknowledgement from the same helped person is
  counted in any :data:`WINDOW` (30 days), so one grateful friend cannot make a record.
- R2, reciprocity: when two people acknowledge each other (A acknowledges B and B
  acknowledges A, in the same archive), each acknowledgement between them counts half.
- R3, fresh accounts: an acknowledgement from an account younger than :data:`WINDOW` when it
  acknowledged is ignored, where the archive says when the account was made.
- R4, diversity: the distinct people acknowledging must be at least a fifth of the
  acknowledgements (:data:`DIVERSITY`); otherwise the summary is flagged ``low_diversity``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from issuer.core.activity.model import ACKNOWLEDGING_KINDS, Interaction

__all__ = [
    "DIVERSITY",
    "FRESH_ACCOUNTS",
    "LOW_DIVERSITY",
    "RECIPROCAL",
    "WINDOW",
    "Summary",
    "count_acknowledgements",
    "reciprocal_people",
    "says_thanks",
    "summarise",
]

#: R1 and R3: the window in which one person's acknowledgements count once, and the age an
#: account must have reached for its acknowledgement to count.
WINDOW = timedelta(days=30)
#: R4: distinct acknowledging people ÷ acknowledgements below this is flagged.
DIVERSITY = 1 / 5
LOW_DIVERSITY = "low_diversity"
RECIPROCAL = "reciprocal_pairs"
FRESH_ACCOUNTS = "fresh_accounts_ignored"

_THANKS = re.compile(
    r"\b(thanks|thank\s+you|thank\s+u|thx|ty|cheers|merci|danke|gracias|grazie|obrigad[oa])\b"
    r"|\b(that|this)\s+(worked|fixed\s+it|solved\s+it|did\s+it)\b",
    re.IGNORECASE)
#: Quoted text in a mail reply is the other person's words, not the replier's.
_QUOTED = re.compile(r"^\s*>.*$", re.MULTILINE)


def says_thanks(text: str | None) -> bool:
    """Whether a reply's own words thank (quoted lines left out): "thanks", "thank you",
    "that worked" and their like in a few languages. Deliberately plain: a missed thank-you
    costs a count, a false one would invent help."""
    if not text:
        return False
    return _THANKS.search(_QUOTED.sub("", text)) is not None


@dataclass
class Summary:
    """One person's activity in an archive; :meth:`as_json` is the command line's contract."""

    handle: str
    interactions: int = 0
    answers_to_others: int = 0
    people_helped: int = 0
    acknowledged: int = 0
    acknowledging_people: int = 0
    counted_acknowledgements: float = 0.0
    threads: int = 0
    communities: int = 0
    months_active: int = 0
    flags: list[str] = field(default_factory=list)

    @property
    def acknowledged_rate(self) -> float | None:
        """Acknowledged answers ÷ answers to others; None when there are no answers."""
        if not self.answers_to_others:
            return None
        return self.acknowledged / self.answers_to_others

    def as_json(self) -> dict[str, Any]:
        rate = self.acknowledged_rate
        return {
            "handle": self.handle,
            "interactions": self.interactions,
            "answers_to_others": self.answers_to_others,
            "people_helped": self.people_helped,
            "acknowledged": self.acknowledged,
            "acknowledging_people": self.acknowledging_people,
            "counted_acknowledgements": self.counted_acknowledgements,
            "acknowledged_rate": None if rate is None else round(rate, 4),
            "threads": self.threads,
            "communities": self.communities,
            "months_active": self.months_active,
            "flags": self.flags,
        }


def _acknowledgers(post: Interaction) -> list[tuple[str, datetime | None]]:
    """Who among the people ``post`` helped acknowledged it, and when: only the person it
    answered counts (a moderator's solved mark or a bystander's thanks does not), and a
    reaction never does."""
    helped = post.reply_to_person
    return [(mark.by, mark.at or post.created) for mark in post.acknowledgements
            if mark.kind in ACKNOWLEDGING_KINDS and mark.by is not None and mark.by == helped]


def reciprocal_people(handle: str, interactions: Iterable[Interaction]) -> set[str]:
    """R2: the people ``handle`` acknowledged in the same archive (whose help to ``handle``
    ``handle`` accepted, marked solved or thanked)."""
    return {post.author for post in interactions
            if post.author is not None and post.author != handle
            and any(by == handle for by, _ in _acknowledgers(post))}


def count_acknowledgements(marks: Iterable[tuple[str, datetime | None]], *,
                           reciprocal: set[str],
                           accounts_created: Mapping[str, datetime]) -> tuple[float, bool]:
    """The acknowledgements that count, and whether any came from a fresh account.

    R3 first (an account younger than :data:`WINDOW` at the time is ignored), then R1 (per
    person, one in any :data:`WINDOW`; a time the archive does not give falls in the same
    window as every other unknown time of that person), then R2 (half for a reciprocal pair).
    """
    by_person: dict[str, list[datetime | None]] = {}
    fresh = False
    for person, at in marks:
        created = accounts_created.get(person)
        if created is not None and (at is None or at - created < WINDOW):
            fresh = True
            continue
        by_person.setdefault(person, []).append(at)
    total = 0.0
    for person, times in by_person.items():
        known = sorted(t for t in times if t is not None)
        # Times the archive does not give may fall in any window: they add nothing to the
        # known ones, and all together count once.
        counted = 0 if known else 1
        last: datetime | None = None
        for moment in known:
            if last is None or moment - last >= WINDOW:
                counted += 1
                last = moment
        total += counted * (0.5 if person in reciprocal else 1.0)
    return total, fresh


def summarise(handle: str, interactions: Iterable[Interaction],
              accounts_created: Mapping[str, datetime] | None = None) -> Summary:
    """``handle``'s activity: posts written, answers to other people, the people helped,
    the acknowledgements received, and what counts of them under R1–R4."""
    posts = list(interactions)
    summary = Summary(handle)
    mine = [p for p in posts if p.author == handle]
    summary.interactions = len(mine)
    answers = [p for p in mine if p.reply_to_person is not None and p.reply_to_person != handle]
    summary.answers_to_others = len(answers)
    summary.people_helped = len({p.reply_to_person for p in answers})
    marks: list[tuple[str, datetime | None]] = []
    for answer in answers:
        found = _acknowledgers(answer)
        if found:
            # One answer is one acknowledgement, however many marks it got (accepted and
            # thanked): the earliest known.
            summary.acknowledged += 1
            marks.append(min(found, key=lambda mark: (mark[1] is None, mark[1] or answer.created
                                                      or datetime.min)))
    summary.acknowledging_people = len({person for person, _ in marks})
    reciprocal = reciprocal_people(handle, posts) & {person for person, _ in marks}
    summary.counted_acknowledgements, fresh = count_acknowledgements(
        marks, reciprocal=reciprocal, accounts_created=accounts_created or {})
    summary.threads = len({(p.community, p.thread) for p in answers})
    summary.communities = len({p.community for p in answers})
    summary.months_active = len({(p.created.year, p.created.month) for p in mine
                                 if p.created is not None})
    if summary.acknowledged and summary.acknowledging_people < DIVERSITY * summary.acknowledged:
        summary.flags.append(LOW_DIVERSITY)
    if reciprocal:
        summary.flags.append(RECIPROCAL)
    if fresh:
        summary.flags.append(FRESH_ACCOUNTS)
    return summary
