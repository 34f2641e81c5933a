"""The measures a reviewer is shown, against the ways a record could be gamed, and the
thresholds a badge may ask of them."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from issuer.core.activity.mbox import read_mbox
from issuer.core.activity.measures import (
    COUNTED,
    FRESH,
    HALF,
    SAME_PERSON,
    Measures,
    Thresholds,
    measure,
    measure_everyone,
    narrative,
    shortfalls,
)
from issuer.core.activity.model import (
    ACCEPTED,
    REACTION,
    THANKS,
    Acknowledgement,
    Interaction,
)
from issuer.core.activity.rules import FRESH_ACCOUNTS, LOW_DIVERSITY, RECIPROCAL, summarise
from issuer.core.activity.stackexchange import read_posts_xml, read_users_xml
from tests.core.activity.archives import SE_POSTS, SITE, USERS_XML, posts_xml

DAY0 = datetime(2024, 3, 1, 9, 0, tzinfo=UTC)


def answer(number: int, author: str, helped: str, at: datetime, *marks: Acknowledgement,
           community: str = "c") -> Interaction:
    return Interaction(platform="test", post_id=f"a{number}", author=author, created=at,
                       thread=f"t{number}", community=community, reply_to_post=f"q{number}",
                       reply_to_person=helped, acknowledgements=marks,
                       permalink=f"https://forum.test/a{number}")


def _mail(number: int, sender: str, day: float, body: str, reply_to: int | None = None) -> str:
    when = DAY0 + timedelta(days=day)
    lines = [f"From {sender} {when:%a %b %d %H:%M:%S %Y}", f"From: <{sender}>",
             f"Date: {when:%a, %d %b %Y %H:%M:%S} +0000", f"Message-ID: <{number}@x.example>",
             "List-Id: <help.x.example>", "Subject: help"]
    if reply_to is not None:
        lines.append(f"In-Reply-To: <{reply_to}@x.example>")
    return "\n".join(lines) + "\n\n" + body + "\n\n"


def test_two_accounts_thanking_each_other_count_half(tmp_path: Path) -> None:
    path = tmp_path / "pair.mbox"
    path.write_text("".join([
        _mail(1, "a@x.example", 0, "How?"), _mail(2, "b@x.example", 0, "Like this.", 1),
        _mail(3, "a@x.example", 1, "Thanks!", 2), _mail(4, "b@x.example", 2, "And how?"),
        _mail(5, "a@x.example", 2, "Like that.", 4), _mail(6, "b@x.example", 3, "Thank you!", 5),
    ]), encoding="utf-8")
    everyone = measure_everyone(read_mbox(path).interactions)
    for person in ("a@x.example", "b@x.example"):
        m = everyone[person]
        assert (m.acknowledged, m.people_acknowledging, m.counted_acknowledgements) == (1, 1, 0.5)
        assert RECIPROCAL in m.flags
        assert [r.outcome for r in m.records] == [HALF]


def test_one_person_acknowledging_twenty_times_in_a_week_counts_once(tmp_path: Path) -> None:
    mails = []
    for n in range(20):
        mails += [_mail(100 + n, "friend@x.example", n * 0.3, f"Question {n}?"),
                  _mail(200 + n, "me@x.example", n * 0.3 + 0.01, f"Answer {n}.", 100 + n),
                  _mail(300 + n, "friend@x.example", n * 0.3 + 0.02, "thx", 200 + n)]
    path = tmp_path / "friend.mbox"
    path.write_text("".join(mails), encoding="utf-8")
    m = measure("me@x.example", read_mbox(path).interactions)
    assert (m.answers, m.acknowledged, m.people_acknowledging, m.counted_acknowledgements,
            m.acknowledged_rate) == (20, 20, 1, 1.0, 1.0)
    assert not m.diverse and m.flags == (LOW_DIVERSITY,)
    assert [r.outcome for r in m.records].count(COUNTED) == 1
    assert [r.outcome for r in m.records].count(SAME_PERSON) == 19
    # A badge asking for anything refuses it, however many acknowledgements it shows.
    assert any("too few different people" in s
               for s in shortfalls(m, Thresholds(min_acknowledgements=1)))


def test_a_fresh_account_counts_nothing() -> None:
    posts = [answer(1, "me", "new", DAY0, Acknowledgement(ACCEPTED, "new", DAY0)),
             answer(2, "me", "old", DAY0, Acknowledgement(ACCEPTED, "old", DAY0))]
    created = {"new": DAY0 - timedelta(days=29), "old": DAY0 - timedelta(days=30)}
    m = measure("me", posts, created)
    assert (m.acknowledged, m.people_acknowledging, m.counted_acknowledgements) == (2, 1, 1.0)
    assert FRESH_ACCOUNTS in m.flags
    assert {r.post_id: r.outcome for r in m.records} == {"a1": FRESH, "a2": COUNTED}


def test_the_stack_exchange_dump_gives_the_rules_numbers() -> None:
    import io

    archive = read_posts_xml(io.BytesIO(posts_xml(SE_POSTS)), site=SITE)
    created = read_users_xml(io.BytesIO(USERS_XML)).accounts_created
    m = measure("10", archive.interactions, created)
    s = summarise("10", archive.interactions, created)
    assert (m.answers, m.people_helped, m.acknowledged, m.counted_acknowledgements,
            m.threads, m.communities, m.months_active) == (
        s.answers_to_others, s.people_helped, s.acknowledged, s.counted_acknowledgements,
        s.threads, s.communities, s.months_active)
    # 20 (twice, 15 days apart: once), 21 (reciprocal: half), 30 (fresh: nothing).
    assert (m.people_acknowledging, m.counted_acknowledgements) == (2, 1.5)
    assert m.acknowledged_communities == 1
    assert m.records[0].permalink == f"https://{SITE}/a/2"


def test_measures_agree_with_the_rules_on_random_archives() -> None:
    rng = random.Random(7)
    people = [f"p{n}" for n in range(6)]
    for _ in range(30):
        posts = []
        for n in range(40):
            author, helped = rng.sample(people, 2)
            at = DAY0 + timedelta(days=rng.randrange(120))
            marks = [Acknowledgement(rng.choice([ACCEPTED, THANKS, REACTION]),
                                     rng.choice([helped, helped, author, None]),
                                     rng.choice([at + timedelta(hours=1), None]))
                     for _ in range(rng.randrange(3))]
            posts.append(answer(n, author, helped, at, *marks,
                                community=rng.choice(["c", "d"])))
        created = {"p5": DAY0 + timedelta(days=40)}
        everyone = measure_everyone(posts, created)
        for person in people:
            s = summarise(person, posts, created)
            m = everyone.get(person, Measures(person))
            assert (m.acknowledged, m.counted_acknowledgements, sorted(m.flags)) == (
                s.acknowledged, s.counted_acknowledgements, sorted(s.flags)), person


def test_likes_boosts_and_followers_change_nothing() -> None:
    """Popularity is never a criterion: fifty likes by fifty people add no measure."""
    posts = [answer(n, "me", f"asker{n}", DAY0 + timedelta(days=n),
                    Acknowledgement(THANKS, f"asker{n}", DAY0 + timedelta(days=n)))
             for n in range(3)]
    before = measure("me", posts)
    liked = [replace(p, acknowledgements=(*p.acknowledgements, *(
        Acknowledgement(REACTION, f"fan{k}", DAY0) for k in range(50)))) for p in posts]
    after = measure("me", liked)
    assert after == before and after.as_json() == before.as_json()


def test_thresholds_say_what_is_missing() -> None:
    posts = [answer(n, "me", f"asker{n % 4}", DAY0 + timedelta(days=31 * n),
                    Acknowledgement(THANKS, f"asker{n % 4}", DAY0 + timedelta(days=31 * n)),
                    community="c" if n % 2 else "d")
             for n in range(8)]
    m = measure("me", posts)
    assert (m.people_acknowledging, m.acknowledged_communities) == (4, 2)
    scaffolder = Thresholds(min_people=5, min_communities=2)
    assert shortfalls(m, scaffolder) == [
        "help acknowledged by 4 people (different people); at least 5 needed"]
    assert shortfalls(m, Thresholds(min_people=4, min_communities=2)) == []
    assert shortfalls(m, Thresholds()) == []
    assert shortfalls(m.with_transfer(1), Thresholds(min_transfer=2)) == [
        "1 peer attested they can now do it unaided; at least 2 needed"]


def test_measures_round_trip_and_the_narrative_names_records_not_people() -> None:
    posts = [answer(1, "me", "asker@mail.test", DAY0,
                    Acknowledgement(ACCEPTED, "asker@mail.test", DAY0))]
    m = measure("me", posts)
    assert Measures.from_json(m.as_json()).as_json() == m.as_json()
    text = narrative(m, platform="test", source_name="export.json", source_sha256="ab" * 32)
    assert "ab" * 32 in text and "https://forum.test/a1" in text and "counted" in text
    assert "asker@mail.test" not in text
