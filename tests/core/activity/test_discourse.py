"""Discourse topics and user archives."""

from __future__ import annotations

import io
import json

import pytest

from issuer.core.activity.discourse import read_topic_json, read_user_archive_csv
from issuer.core.activity.model import REACTION, SOLVED, THANKS, ArchiveUnreadable, Limits
from issuer.core.activity.rules import summarise
from tests.core.activity.archives import USER_ARCHIVE_CSV, discourse_post, discourse_topic


def test_a_topic_gives_replies_solved_marks_thanks_and_a_like_that_is_only_recorded() -> None:
    archive = read_topic_json(io.BytesIO(discourse_topic()), forum="forum.bakers.example")
    assert [(e.item, e.message) for e in archive.errors] == [(6, "post_number is not a number")]
    posts = {p.post_id: p for p in archive.interactions}
    answer = posts["42/2"]
    # No reply_to_post_number: a reply to the topic, that is to its author.
    assert answer.reply_to_post == "42/1" and answer.reply_to_person == "maria"
    assert answer.permalink == "https://forum.bakers.example/t/sourdough-starter-smells-of-acetone/42/2"
    assert sorted((m.kind, m.by) for m in answer.acknowledgements) == [
        (REACTION, None), (SOLVED, "maria"), (THANKS, "maria")]
    # lee thanked tom but was not the one helped: no acknowledgement comes of it.
    assert posts["42/4"].acknowledgements == () and posts["42/4"].says_thanks
    assert posts["42/5"].reply_to_person == "lee"


def test_tom_helped_two_people_and_one_acknowledged_once() -> None:
    archive = read_topic_json(io.BytesIO(discourse_topic()))
    summary = summarise("tom", archive.interactions).as_json()
    assert {k: summary[k] for k in ("interactions", "answers_to_others", "people_helped",
                                    "acknowledged", "acknowledging_people",
                                    "counted_acknowledgements", "communities")} == {
        "interactions": 2, "answers_to_others": 2, "people_helped": 2, "acknowledged": 1,
        "acknowledging_people": 1, "counted_acknowledgements": 1.0, "communities": 1}


def test_a_solved_mark_by_a_moderator_is_not_the_helped_persons() -> None:
    topic = json.loads(discourse_topic())
    topic["accepted_answer"]["accepter_username"] = "moderator"
    topic["post_stream"]["posts"] = topic["post_stream"]["posts"][:2]
    archive = read_topic_json(io.BytesIO(json.dumps(topic).encode()))
    assert summarise("tom", archive.interactions).acknowledged == 0


def test_without_an_accepter_the_topic_author_marked_it() -> None:
    topic = json.loads(discourse_topic())
    del topic["accepted_answer"]["accepter_username"]
    topic["post_stream"]["posts"] = topic["post_stream"]["posts"][:2]
    archive = read_topic_json(io.BytesIO(json.dumps(topic).encode()))
    marks = archive.interactions[1].acknowledgements
    assert (SOLVED, "maria") in [(m.kind, m.by) for m in marks]


def test_likes_alone_acknowledge_nothing() -> None:
    posts = [discourse_post(1, "maria", "2024-05-01T08:00:00Z", "<p>Q</p>"),
             discourse_post(2, "tom", "2024-05-01T09:00:00Z", "<p>A</p>", likes=500)]
    topic = {"id": 7, "post_stream": {"posts": posts}}
    archive = read_topic_json(io.BytesIO(json.dumps(topic).encode()))
    summary = summarise("tom", archive.interactions)
    assert summary.acknowledged == 0 and summary.counted_acknowledgements == 0


@pytest.mark.parametrize("data", [b"<html>", b'{"id": 1}', b'{"post_stream": {"posts": []}}',
                                  b"[]"])
def test_what_is_not_a_topic_is_unreadable(data: bytes) -> None:
    with pytest.raises(ArchiveUnreadable):
        read_topic_json(io.BytesIO(data))


def test_the_item_limit_stops_reading() -> None:
    archive = read_topic_json(io.BytesIO(discourse_topic()), limits=Limits(max_items=2))
    assert archive.truncated and len(archive.interactions) == 2


def test_a_user_archive_shows_activity_but_no_help() -> None:
    archive = read_user_archive_csv(io.BytesIO(USER_ARCHIVE_CSV), owner="tom")
    assert [e.item for e in archive.errors] == [3]
    assert [(p.post_id, p.community, p.thread) for p in archive.interactions] == [
        ("42/2", "forum.bakers.example", "42"), ("57/3", "forum.bakers.example", "57")]
    summary = summarise("tom", archive.interactions)
    assert (summary.interactions, summary.answers_to_others, summary.months_active) == (2, 0, 2)


@pytest.mark.parametrize("data", [b"a,b\n1,2\n", b"\xff\xfe\x00"])
def test_a_csv_without_the_archive_columns_is_unreadable(data: bytes) -> None:
    with pytest.raises(ArchiveUnreadable):
        read_user_archive_csv(io.BytesIO(data), owner="tom")
