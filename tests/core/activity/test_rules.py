"""The counting rules against the ways a record could be gamed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from issuer.core.activity.mbox import read_mbox
from issuer.core.activity.model import (
    ACCEPTED,
    REACTION,
    THANKS,
    Acknowledgement,
    Interaction,
)
from issuer.core.activity.rules import (
    FRESH_ACCOUNTS,
    LOW_DIVERSITY,
    RECIPROCAL,
    count_acknowledgements,
    says_thanks,
    summarise,
)

DAY0 = datetime(2024, 3, 1, 9, 0, tzinfo=UTC)


def answer(number: int, author: str, helped: str, at: datetime,
           *marks: Acknowledgement) -> Interaction:
    return Interaction(platform="test", post_id=f"a{number}", author=author, created=at,
                       thread=f"t{number}", community="c", reply_to_post=f"q{number}",
                       reply_to_person=helped, acknowledgements=marks)


def _mail(number: int, sender: str, day: int, body: str, reply_to: int | None = None) -> str:
    when = DAY0 + timedelta(days=day)
    lines = [f"From {sender} {when:%a %b %d %H:%M:%S %Y}", f"From: <{sender}>",
             f"Date: {when:%a, %d %b %Y %H:%M:%S} +0000", f"Message-ID: <{number}@x.example>",
             "Subject: help"]
    if reply_to is not None:
        lines.append(f"In-Reply-To: <{reply_to}@x.example>")
    return "\n".join(lines) + "\n\n" + body + "\n\n"


def test_two_accounts_thanking_each_other_count_half(tmp_path: Path) -> None:
    """R2: a asks, b answers, a thanks b; b asks, a answers, b thanks a."""
    path = tmp_path / "pair.mbox"
    path.write_text("".join([
        _mail(1, "a@x.example", 0, "How?"),
        _mail(2, "b@x.example", 0, "Like this.", 1),
        _mail(3, "a@x.example", 1, "Thanks!", 2),
        _mail(4, "b@x.example", 2, "And how?"),
        _mail(5, "a@x.example", 2, "Like that.", 4),
        _mail(6, "b@x.example", 3, "Thank you!", 5),
    ]), encoding="utf-8")
    posts = read_mbox(path).interactions
    for person in ("a@x.example", "b@x.example"):
        summary = summarise(person, posts)
        assert (summary.acknowledged, summary.counted_acknowledgements) == (1, 0.5)
        assert RECIPROCAL in summary.flags


def test_one_person_acknowledging_twenty_times_in_a_week_counts_once(tmp_path: Path) -> None:
    """R1, and R4 flags it: one person is not a fifth of twenty acknowledgements."""
    mails = []
    for n in range(20):
        mails += [_mail(100 + n, "friend@x.example", n % 7, f"Question {n}?"),
                  _mail(200 + n, "me@x.example", n % 7, f"Answer {n}.", 100 + n),
                  _mail(300 + n, "friend@x.example", n % 7, "thx", 200 + n)]
    path = tmp_path / "friend.mbox"
    path.write_text("".join(mails), encoding="utf-8")
    summary = summarise("me@x.example", read_mbox(path).interactions)
    assert (summary.answers_to_others, summary.acknowledged, summary.acknowledging_people,
            summary.counted_acknowledgements) == (20, 20, 1, 1.0)
    assert summary.flags == [LOW_DIVERSITY]


def test_the_window_is_thirty_days_from_the_last_counted() -> None:
    marks = [("p", DAY0 + timedelta(days=d)) for d in (0, 29, 30, 59, 61)]
    assert count_acknowledgements(marks, reciprocal=set(), accounts_created={}) == (3.0, False)


def test_unknown_times_count_once_and_not_beside_known_ones() -> None:
    assert count_acknowledgements([("p", None), ("p", None)], reciprocal=set(),
                                  accounts_created={}) == (1.0, False)
    assert count_acknowledgements([("p", None), ("p", DAY0)], reciprocal=set(),
                                  accounts_created={}) == (1.0, False)


def test_a_fresh_account_is_ignored_where_the_archive_tells() -> None:
    """R3: made 29 days before acknowledging is too young; 30 days is old enough."""
    posts = [answer(1, "me", "new", DAY0, Acknowledgement(ACCEPTED, "new", DAY0)),
             answer(2, "me", "old", DAY0, Acknowledgement(ACCEPTED, "old", DAY0))]
    created = {"new": DAY0 - timedelta(days=29), "old": DAY0 - timedelta(days=30)}
    summary = summarise("me", posts, created)
    assert (summary.acknowledged, summary.counted_acknowledgements) == (2, 1.0)
    assert summary.flags == [FRESH_ACCOUNTS]
    assert summarise("me", posts).counted_acknowledgements == 2.0


def test_reactions_and_strangers_acknowledge_nothing() -> None:
    posts = [answer(1, "me", "asker", DAY0, Acknowledgement(REACTION, "asker", DAY0),
                    Acknowledgement(THANKS, "bystander", DAY0), Acknowledgement(ACCEPTED))]
    summary = summarise("me", posts)
    assert (summary.acknowledged, summary.counted_acknowledgements) == (0, 0.0)


def test_an_answer_accepted_and_thanked_is_one_acknowledgement() -> None:
    posts = [answer(1, "me", "asker", DAY0, Acknowledgement(ACCEPTED, "asker", DAY0),
                    Acknowledgement(THANKS, "asker", DAY0 + timedelta(days=90)))]
    summary = summarise("me", posts)
    assert (summary.acknowledged, summary.counted_acknowledgements) == (1, 1.0)


def test_answering_oneself_is_not_helping() -> None:
    posts = [answer(1, "me", "me", DAY0, Acknowledgement(ACCEPTED, "me", DAY0))]
    summary = summarise("me", posts)
    assert (summary.interactions, summary.answers_to_others, summary.acknowledged) == (1, 0, 0)


def test_diversity_at_exactly_a_fifth_is_not_flagged() -> None:
    posts = [answer(n, "me", person, DAY0 + timedelta(days=40 * n),
                    Acknowledgement(THANKS, person, DAY0 + timedelta(days=40 * n)))
             for n, person in enumerate(["p"] * 4 + ["q"] * 6)]
    summary = summarise("me", posts)
    assert (summary.acknowledged, summary.acknowledging_people) == (10, 2)
    assert summary.flags == [] and summary.counted_acknowledgements == 10.0


@pytest.mark.parametrize(("text", "thanks"), [
    ("Thanks, that worked!", True), ("thank you so much", True), ("That fixed it.", True),
    ("Merci !", True), ("> thanks\nI disagree", False), ("Thanksgiving plans?", False),
    ("", False), (None, False),
])
def test_says_thanks(text: str | None, thanks: bool) -> None:
    assert says_thanks(text) is thanks
