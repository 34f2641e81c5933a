"""Stack Exchange dumps and API answers: what is read, what is refused, what is left out."""

from __future__ import annotations

import hashlib
import io
import json
from datetime import UTC, datetime

import pytest

from issuer.core.activity.model import ACCEPTED, ArchiveUnreadable, Limits
from issuer.core.activity.rules import summarise
from issuer.core.activity.stackexchange import read_api_json, read_posts_xml, read_users_xml
from tests.core.activity.archives import (
    BILLION_LAUGHS,
    SE_POSTS,
    SITE,
    USERS_XML,
    posts_xml,
    se_api_json,
    se_post,
)


def test_a_dump_gives_questions_and_answers_with_whom_they_answer_and_who_accepted() -> None:
    data = posts_xml(SE_POSTS)
    archive = read_posts_xml(io.BytesIO(data), site=SITE)
    assert archive.errors == [] and not archive.truncated
    assert archive.source_sha256 == hashlib.sha256(data).hexdigest()
    # The tag wiki (PostTypeId 5) is not an interaction between people.
    assert len(archive.interactions) == len(SE_POSTS) - 1
    answer = next(p for p in archive.interactions if p.post_id == "2")
    assert answer.author == "10" and answer.reply_to_post == "1"
    assert answer.reply_to_person == "20" and answer.thread == "1"
    assert answer.permalink == f"https://{SITE}/a/2"
    assert answer.created == datetime(2024, 1, 5, 10, 0, tzinfo=UTC)
    assert answer.content_sha256 == hashlib.sha256(b"<p>Shorten the proof.</p>").hexdigest()
    assert answer.source_sha256 == archive.source_sha256
    assert [(m.kind, m.by) for m in answer.acknowledgements] == [(ACCEPTED, "20")]
    unaccepted = next(p for p in archive.interactions if p.post_id == "3")
    assert unaccepted.acknowledgements == ()


def test_users_xml_tells_when_accounts_were_made() -> None:
    accounts = read_users_xml(io.BytesIO(USERS_XML)).accounts_created
    assert accounts["30"] == datetime(2024, 3, 20, tzinfo=UTC) and len(accounts) == 5


def test_the_worked_example_counts_under_the_rules() -> None:
    archive = read_posts_xml(io.BytesIO(posts_xml(SE_POSTS)), site=SITE)
    accounts = read_users_xml(io.BytesIO(USERS_XML)).accounts_created
    summary = summarise("10", archive.interactions, accounts).as_json()
    assert summary == {
        "handle": "10", "interactions": 7, "answers_to_others": 5, "people_helped": 4,
        "acknowledged": 4, "acknowledging_people": 3,
        # 20 twice within 30 days: once; 21 is a reciprocal pair: half; 30 is fresh: none.
        "counted_acknowledgements": 1.5, "acknowledged_rate": 0.8, "threads": 5,
        "communities": 1, "months_active": 4,
        "flags": ["reciprocal_pairs", "fresh_accounts_ignored"],
    }
    # Without Users.xml the archive does not say the account was fresh: it counts.
    assert summarise("10", archive.interactions).counted_acknowledgements == 2.5


def test_a_document_type_is_refused_before_any_entity_is_expanded() -> None:
    with pytest.raises(ArchiveUnreadable, match="document type"):
        read_posts_xml(io.BytesIO(BILLION_LAUGHS))


def test_a_doctype_split_across_reads_is_still_seen() -> None:
    head = b'<?xml version="1.0"?><!-- '
    # "<!DO" ends one 16 KiB read (iterparse's size) and "CTYPE" begins the next.
    padding = b"x" * (64 * 1024 - 4 - len(head) - len(b" -->")) + b" -->"
    data = head + padding + b"<!DOCTYPE posts SYSTEM 'file:///etc/passwd'>"
    assert data[64 * 1024 - 4:64 * 1024] == b"<!DO"
    with pytest.raises(ArchiveUnreadable, match="document type"):
        read_posts_xml(io.BytesIO(data + b"<posts></posts>"))


@pytest.mark.parametrize("data", [
    posts_xml(SE_POSTS[:2]).decode("utf-8").encode("utf-16"),
    b'<?xml version="1.0" encoding="utf-7"?><posts></posts>',
])
def test_encodings_that_could_hide_a_doctype_are_refused(data: bytes) -> None:
    with pytest.raises(ArchiveUnreadable):
        read_posts_xml(io.BytesIO(data))


@pytest.mark.parametrize(("data", "message"), [
    (b"Id,PostTypeId\n1,1\n", "not XML"),
    (b"<users><row Id='1' /></users>", "not a Stack Exchange posts.xml"),
    (b"", "not XML"),
])
def test_what_is_not_a_posts_file_is_unreadable(data: bytes, message: str) -> None:
    with pytest.raises(ArchiveUnreadable, match=message):
        read_posts_xml(io.BytesIO(data))


def test_a_file_that_breaks_off_keeps_the_rows_before_with_an_error() -> None:
    data = posts_xml(SE_POSTS[:3])[:-40]
    archive = read_posts_xml(io.BytesIO(data))
    assert [p.post_id for p in archive.interactions] == ["1", "2"]
    assert len(archive.errors) == 1 and "breaks off" in archive.errors[0].message


def test_broken_rows_are_row_errors_and_the_others_are_read() -> None:
    rows = [
        SE_POSTS[0],
        '  <row Id="x7" PostTypeId="2" ParentId="1" CreationDate="2024-01-01T00:00:00" />',
        '  <row Id="8" PostTypeId="2" CreationDate="2024-01-01T00:00:00" OwnerUserId="3" />',
        '  <row Id="9" PostTypeId="2" ParentId="1" CreationDate="yesterday" />',
        SE_POSTS[1],
    ]
    archive = read_posts_xml(io.BytesIO(posts_xml(rows)))
    assert [p.post_id for p in archive.interactions] == ["1", "2"]
    assert [e.item for e in archive.errors] == [2, 3, 4]
    assert "x7" in archive.errors[0].message and "ParentId" in archive.errors[1].message


def test_limits_bound_the_bytes_and_the_items() -> None:
    data = posts_xml(SE_POSTS)
    with pytest.raises(ArchiveUnreadable, match="larger than"):
        read_posts_xml(io.BytesIO(data), limits=Limits(max_bytes=len(data) - 1))
    archive = read_posts_xml(io.BytesIO(data), limits=Limits(max_items=3))
    assert archive.truncated and len(archive.interactions) == 3
    assert archive.errors[-1].item == 4 and "stopped after 3" in archive.errors[-1].message


def test_a_deleted_owner_is_nobody() -> None:
    rows = [se_post(1, 1, None, "2024-01-01T00:00:00", accepted=2),
            se_post(2, 2, 10, "2024-01-01T01:00:00", parent=1)]
    archive = read_posts_xml(io.BytesIO(posts_xml(rows)))
    summary = summarise("10", archive.interactions)
    assert summary.answers_to_others == 0 and summary.acknowledged == 0


def test_api_answers_with_their_question_and_a_broken_item() -> None:
    archive = read_api_json(io.BytesIO(se_api_json()))
    assert [(e.item, e.message) for e in archive.errors] == [
        (4, "an item without a numeric question_id")]
    accepted = next(p for p in archive.interactions if p.post_id == "101")
    assert accepted.reply_to_person == "20" and accepted.permalink == f"https://{SITE}/a/101"
    assert [(m.kind, m.by) for m in accepted.acknowledgements] == [(ACCEPTED, "20")]
    # The asker of question 200 is not in the file: whom 102 answered is unknown.
    assert next(p for p in archive.interactions if p.post_id == "102").reply_to_person is None
    summary = summarise("10", archive.interactions)
    assert (summary.interactions, summary.answers_to_others, summary.acknowledged,
            summary.counted_acknowledgements) == (2, 1, 1, 1.0)


@pytest.mark.parametrize("data", [b"{not json", b"[1, 2]", b'{"items": 3}',
                                  b"\xff\xfe{}"])
def test_api_files_that_are_not_answers_are_unreadable(data: bytes) -> None:
    with pytest.raises(ArchiveUnreadable):
        read_api_json(io.BytesIO(data))


@pytest.mark.parametrize("handle", ["10", "20", "21", "22", "30", "404"])
def test_reading_for_one_person_keeps_what_their_summary_needs(handle: str) -> None:
    data = posts_xml(SE_POSTS)
    accounts = read_users_xml(io.BytesIO(USERS_XML)).accounts_created
    whole = read_posts_xml(io.BytesIO(data), site=SITE)
    theirs = read_posts_xml(io.BytesIO(data), site=SITE, handle=handle)
    assert theirs.source_sha256 == whole.source_sha256
    assert summarise(handle, theirs.interactions, accounts) == summarise(
        handle, whole.interactions, accounts)
    if handle == "10":
        # 10's seven posts, the five questions 10 answered, and 21's answer to 10's question.
        assert len(theirs.interactions) == 7 + 5 + 1 < len(whole.interactions)


def test_reading_for_one_person_lists_broken_rows_once() -> None:
    rows = [SE_POSTS[0], '  <row Id="x" PostTypeId="1" />', SE_POSTS[1]]
    archive = read_posts_xml(io.BytesIO(posts_xml(rows)), handle="10")
    assert [e.item for e in archive.errors] == [2]
    assert [p.post_id for p in archive.interactions] == ["2", "1"]


@pytest.mark.parametrize("when", [10**20, -(10**20), "soon", True, [1]])
def test_a_time_out_of_range_is_an_item_error(when: object) -> None:
    items = [{"answer_id": 1, "question_id": 2, "owner": {"user_id": 10},
              "creation_date": when}]
    archive = read_api_json(io.BytesIO(json.dumps({"items": items}).encode()))
    assert archive.interactions == [] and [e.item for e in archive.errors] == [1]


def test_documents_have_their_own_smaller_bound() -> None:
    data = se_api_json()
    with pytest.raises(ArchiveUnreadable, match=f"larger than {len(data) - 1} bytes"):
        read_api_json(io.BytesIO(data), limits=Limits(max_document_bytes=len(data) - 1))


def test_the_file_hash_is_the_whole_files_even_when_reading_stops() -> None:
    data = posts_xml(SE_POSTS)
    whole = hashlib.sha256(data).hexdigest()
    assert read_posts_xml(io.BytesIO(data), limits=Limits(max_items=2)).source_sha256 == whole
    broken = data[:-40]
    assert read_posts_xml(io.BytesIO(broken)).source_sha256 == hashlib.sha256(
        broken).hexdigest()
