"""Measures of influence a reviewer can trust, and the thresholds a badge may ask of them.

A :class:`Measures` is what a reviewer is shown of one person's help: the distinct people
whose acknowledgement counts, the acknowledgements counted under the rules of
:mod:`issuer.core.activity.rules` (R1 one per person per 30 days, R2 reciprocal pairs half,
R3 fresh accounts ignored, R4 diversity), the acknowledged-help rate (acknowledged answers ÷
answers to others), the spread across threads and communities, the months active, and the
peers who attest that they can now do it unaided (transfer, given by the caller: it comes
from attestations, not from the archive). Every acknowledged answer is kept as a
:class:`CountedRecord` saying whether and how it counted, so the evidence of a credential can
name the records behind its numbers.

Follower, like, boost and score counts are never read: nothing here looks at a reaction or
at any count a platform shows, so inflating them changes no measure.

:class:`Thresholds` is what an achievement may require ("helped at least 5 different people,
acknowledged in at least 2 communities"); :func:`shortfalls` says in plain words what is
missing. A policy that sets any threshold also requires R4: help acknowledged by too few
different people does not meet it, whatever the counts.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import datetime
from typing import Any

from issuer.core.activity.model import ACKNOWLEDGING_KINDS, Interaction
from issuer.core.activity.rules import (
    DIVERSITY,
    FRESH_ACCOUNTS,
    LOW_DIVERSITY,
    RECIPROCAL,
    WINDOW,
)

__all__ = [
    "COUNTED",
    "FRESH",
    "HALF",
    "RULES_TEXT",
    "SAME_PERSON",
    "CountedRecord",
    "Measures",
    "Thresholds",
    "measure",
    "measure_everyone",
    "narrative",
    "shortfalls",
]

#: How an acknowledged answer was counted (:attr:`CountedRecord.outcome`).
COUNTED = "counted"
HALF = "counted half (reciprocal pair)"
SAME_PERSON = "not counted: the same person acknowledged within 30 days"
FRESH = "not counted: the account was younger than 30 days"

RULES_TEXT = (
    "Counted: answers to someone else that the person helped acknowledged (accepted, marked "
    "solved or thanked). At most one acknowledgement per helped person in any 30 days; "
    "acknowledgements between two people who acknowledge each other count half; accounts "
    "younger than 30 days when they acknowledged are ignored; the distinct people "
    "acknowledging must be at least a fifth of the acknowledgements. Followers, likes, "
    "boosts and scores are never counted.")


@dataclass(frozen=True, slots=True)
class CountedRecord:
    """One acknowledged answer and how it counted: ``weight`` 1, 0.5 (reciprocal) or 0."""

    post_id: str
    permalink: str | None
    community: str
    thread: str
    at: datetime | None
    weight: float
    outcome: str

    def as_json(self) -> dict[str, Any]:
        return {"post_id": self.post_id, "permalink": self.permalink,
                "community": self.community, "thread": self.thread,
                "at": self.at.isoformat() if self.at else None, "weight": self.weight,
                "outcome": self.outcome}


@dataclass(frozen=True)
class Measures:
    """One person's help as a reviewer is shown it; see the module docstring."""

    handle: str
    answers: int = 0
    people_helped: int = 0
    acknowledged: int = 0
    #: Distinct people whose acknowledgement counts (fresh accounts left out).
    people_acknowledging: int = 0
    counted_acknowledgements: float = 0.0
    threads: int = 0
    communities: int = 0
    #: Communities in which at least one acknowledgement counts.
    acknowledged_communities: int = 0
    months_active: int = 0
    #: Peers who attest that they can now do it unaided.
    attested_transfer: int = 0
    flags: tuple[str, ...] = ()
    records: tuple[CountedRecord, ...] = field(default=(), compare=False)

    @property
    def acknowledged_rate(self) -> float | None:
        """Acknowledged answers ÷ answers to others; None without answers."""
        return self.acknowledged / self.answers if self.answers else None

    @property
    def diverse(self) -> bool:
        """R4 holds: no flag for low diversity."""
        return LOW_DIVERSITY not in self.flags

    def with_transfer(self, peers: int) -> Measures:
        return replace(self, attested_transfer=peers)

    def as_json(self) -> dict[str, Any]:
        """Every measure (records included), as stored and as the API shows them."""
        rate = self.acknowledged_rate
        data: dict[str, Any] = {f.name: getattr(self, f.name) for f in fields(self)
                                if f.name not in ("records", "flags")}
        data["flags"] = list(self.flags)
        data["acknowledged_rate"] = None if rate is None else round(rate, 4)
        data["records"] = [r.as_json() for r in self.records]
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Measures:
        """The inverse of :meth:`as_json`; unknown keys are ignored."""
        names = {f.name for f in fields(cls)} - {"records", "flags"}
        values = {k: v for k, v in data.items() if k in names}
        records = tuple(
            CountedRecord(post_id=str(r["post_id"]), permalink=r.get("permalink"),
                          community=str(r.get("community", "")), thread=str(r.get("thread", "")),
                          at=datetime.fromisoformat(r["at"]) if r.get("at") else None,
                          weight=float(r.get("weight", 0)), outcome=str(r.get("outcome", "")))
            for r in data.get("records") or ())
        return cls(**values, flags=tuple(data.get("flags") or ()), records=records)


@dataclass(frozen=True)
class Thresholds:
    """What an achievement requires of the measures; 0 (or None) asks nothing.

    ``min_rate`` is a percentage of answers acknowledged (0–100).
    """

    min_people: int = 0
    min_acknowledgements: float = 0
    min_rate: int = 0
    min_transfer: int = 0
    min_threads: int = 0
    min_communities: int = 0
    min_months: int = 0

    @property
    def any(self) -> bool:
        return any(getattr(self, f.name) for f in fields(self))

    def as_json(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def _plural(n: float, word: str, many: str | None = None) -> str:
    return f"{n:g} {word if n == 1 else (many or word + 's')}"


def shortfalls(measures: Measures, thresholds: Thresholds) -> list[str]:
    """What ``measures`` lack to meet ``thresholds``, one plain sentence each; empty: met."""
    t, m = thresholds, measures
    missing: list[str] = []
    if m.people_acknowledging < t.min_people:
        people = _plural(m.people_acknowledging, "person", "people")
        missing.append(f"help acknowledged by {people} (different people); at least "
                       f"{t.min_people} needed")
    if m.counted_acknowledgements < t.min_acknowledgements:
        missing.append(f"{_plural(m.counted_acknowledgements, 'acknowledgement')} counted; "
                       f"at least {t.min_acknowledgements:g} needed")
    rate = m.acknowledged_rate or 0.0
    if t.min_rate and rate * 100 < t.min_rate:
        missing.append(f"{rate:.0%} of answers acknowledged; at least {t.min_rate}% needed")
    if m.attested_transfer < t.min_transfer:
        missing.append(f"{_plural(m.attested_transfer, 'peer')} attested they can now do it "
                       f"unaided; at least {t.min_transfer} needed")
    if m.threads < t.min_threads:
        missing.append(f"answers in {_plural(m.threads, 'thread')}; at least "
                       f"{t.min_threads} needed")
    if m.acknowledged_communities < t.min_communities:
        places = _plural(m.acknowledged_communities, "community", "communities")
        missing.append(f"acknowledged in {places}; at least {t.min_communities} needed")
    if m.months_active < t.min_months:
        missing.append(f"active in {_plural(m.months_active, 'month')}; at least "
                       f"{t.min_months} needed")
    if thresholds.any and not m.diverse:
        missing.append("the acknowledgements come from too few different people (fewer "
                       "than one in five)")
    return missing


def _acknowledgers(post: Interaction) -> list[tuple[str, datetime | None]]:
    # The same reading as the rules: only the person answered acknowledges, never a reaction.
    helped = post.reply_to_person
    return [(mark.by, mark.at or post.created) for mark in post.acknowledgements
            if mark.kind in ACKNOWLEDGING_KINDS and mark.by is not None and mark.by == helped]


def _earliest(found: list[tuple[str, datetime | None]],
              post: Interaction) -> tuple[str, datetime | None]:
    return min(found, key=lambda mark: (mark[1] is None, mark[1] or post.created
                                        or datetime.min))


def _records(marks: list[tuple[Interaction, str, datetime | None]], reciprocal: set[str],
             accounts_created: Mapping[str, datetime]) -> list[CountedRecord]:
    """Each acknowledged answer with its weight: R3, then R1 per person, then R2 — the
    order and the arithmetic of :func:`issuer.core.activity.rules.count_acknowledgements`."""
    out: list[CountedRecord] = []
    by_person: dict[str, list[tuple[Interaction, datetime | None]]] = {}
    for post, person, at in marks:
        created = accounts_created.get(person)
        if created is not None and (at is None or at - created < WINDOW):
            out.append(_record(post, at, 0.0, FRESH))
            continue
        by_person.setdefault(person, []).append((post, at))
    for person, items in by_person.items():
        share = 0.5 if person in reciprocal else 1.0
        outcome = HALF if person in reciprocal else COUNTED
        known = sorted(((post, at) for post, at in items if at is not None),
                       key=lambda item: item[1])
        unknown = [post for post, at in items if at is None]
        last: datetime | None = None
        for post, at in known:
            if last is None or at - last >= WINDOW:
                out.append(_record(post, at, share, outcome))
                last = at
            else:
                out.append(_record(post, at, 0.0, SAME_PERSON))
        for index, post in enumerate(unknown):
            # Unknown times count once together, and nothing beside known ones.
            counts = not known and index == 0
            out.append(_record(post, None, share if counts else 0.0,
                               outcome if counts else SAME_PERSON))
    out.sort(key=lambda r: (r.at is None, r.at or datetime.min, r.post_id))
    return out


def _record(post: Interaction, at: datetime | None, weight: float,
            outcome: str) -> CountedRecord:
    return CountedRecord(post.post_id, post.permalink, post.community, post.thread, at,
                         weight, outcome)


def _measure(handle: str, mine: list[Interaction], acknowledged_by_handle: set[str],
             accounts_created: Mapping[str, datetime]) -> Measures:
    answers = [p for p in mine if p.reply_to_person is not None and p.reply_to_person != handle]
    marks: list[tuple[Interaction, str, datetime | None]] = []
    for answer in answers:
        found = _acknowledgers(answer)
        if found:
            person, at = _earliest(found, answer)
            marks.append((answer, person, at))
    people = {person for _, person, _ in marks}
    reciprocal = acknowledged_by_handle & people
    records = _records(marks, reciprocal, accounts_created)
    by_post = {post.post_id: person for post, person, _ in marks}
    counting = [r for r in records if r.outcome != FRESH]
    flags = []
    if marks and len(people) < DIVERSITY * len(marks):
        flags.append(LOW_DIVERSITY)
    if reciprocal:
        flags.append(RECIPROCAL)
    if len(counting) < len(records):
        flags.append(FRESH_ACCOUNTS)
    return Measures(
        handle=handle, answers=len(answers),
        people_helped=len({p.reply_to_person for p in answers}),
        acknowledged=len(marks),
        people_acknowledging=len({by_post[r.post_id] for r in counting}),
        counted_acknowledgements=sum(r.weight for r in records),
        threads=len({(p.community, p.thread) for p in answers}),
        communities=len({p.community for p in answers}),
        acknowledged_communities=len({r.community for r in records if r.weight > 0}),
        months_active=len({(p.created.year, p.created.month) for p in mine
                           if p.created is not None}),
        flags=tuple(flags), records=tuple(records))


def measure(handle: str, interactions: Iterable[Interaction],
            accounts_created: Mapping[str, datetime] | None = None) -> Measures:
    """``handle``'s measures in an archive (attested transfer 0: see :meth:`Measures.
    with_transfer`)."""
    everyone = measure_everyone(interactions, accounts_created, only={handle})
    return everyone.get(handle) or Measures(handle)


def measure_everyone(interactions: Iterable[Interaction],
                     accounts_created: Mapping[str, datetime] | None = None, *,
                     only: set[str] | None = None) -> dict[str, Measures]:
    """The measures of every author in an archive (or of those in ``only``), in one pass
    over it: a community export is measured person by person without reading it again."""
    posts = list(interactions)
    mine: dict[str, list[Interaction]] = {}
    acknowledged_by: dict[str, set[str]] = {}
    for post in posts:
        if post.author is None:
            continue
        if only is None or post.author in only:
            mine.setdefault(post.author, []).append(post)
        for person, _ in _acknowledgers(post):
            if person != post.author:
                acknowledged_by.setdefault(person, set()).add(post.author)
    created = accounts_created or {}
    return {handle: _measure(handle, own, acknowledged_by.get(handle, set()), created)
            for handle, own in mine.items()}


def narrative(measures: Measures, *, platform: str, source_name: str, source_sha256: str,
              max_records: int = 50) -> str:
    """The counts, the rules and the records counted, as a credential's evidence says them.

    Only the person's own posts are named (by permalink or post id); the people they helped
    appear as counts, never by name.
    """
    m = measures
    rate = m.acknowledged_rate
    lines = [
        f"Measured from {source_name} ({platform} archive, SHA-256 {source_sha256}) for "
        f"{m.handle}.",
        f"Answers to others: {m.answers}, to {_plural(m.people_helped, 'person', 'people')}; "
        f"acknowledged: {m.acknowledged}"
        + (f" ({rate:.0%} of answers)" if rate is not None else "") + ".",
        f"Acknowledgements counted under the rules: {m.counted_acknowledgements:g}, from "
        f"{_plural(m.people_acknowledging, 'different person', 'different people')}.",
        f"Spread: {_plural(m.threads, 'thread')}, "
        f"{_plural(m.communities, 'community', 'communities')}"
        f" ({m.acknowledged_communities} with acknowledged help); "
        f"{_plural(m.months_active, 'month')} active.",
    ]
    if m.flags:
        lines.append("Flags: " + ", ".join(f.replace("_", " ") for f in m.flags) + ".")
    lines.append(RULES_TEXT)
    lines.append("Records (the person's acknowledged answers):")
    for record in m.records[:max_records]:
        where = record.permalink or f"post {record.post_id}"
        when = record.at.date().isoformat() if record.at else "date unknown"
        lines.append(f"- {where} ({when}): {record.outcome}")
    if len(m.records) > max_records:
        lines.append(f"- and {len(m.records) - max_records} more")
    return "\n".join(lines)
