"""Mastodon account archives (ActivityPub outbox)."""

from __future__ import annotations

import io

import pytest

from issuer.core.activity.mastodon import account_name, read_outbox_json
from issuer.core.activity.model import ArchiveUnreadable
from issuer.core.activity.rules import summarise
from tests.core.activity.archives import outbox_json


@pytest.mark.parametrize(("value", "name"), [
    ("@Alice@Social.Example", "alice@social.example"),
    ("alice@social.example", "alice@social.example"),
    ("https://social.example/users/alice", "alice@social.example"),
    ("https://social.example/users/alice/statuses/3", "alice@social.example"),
    ("https://social.example/@alice/3", "alice@social.example"),
    ("https://social.example/notes/3", None),
    ("@alice", None),
])
def test_account_names(value: str, name: str | None) -> None:
    assert account_name(value) == name


def test_an_outbox_gives_notes_and_whom_they_answer() -> None:
    archive = read_outbox_json(io.BytesIO(outbox_json()))
    assert [e.item for e in archive.errors] == [6]
    # The boost is not alice's words.
    assert [p.reply_to_person for p in archive.interactions] == [
        None, "bob@fosstodon.example", "alice@social.example", "carol@hachyderm.example"]
    assert archive.interactions[1].permalink == "https://social.example/@alice/2"
    assert archive.interactions[1].community == "fosstodon.example"


def test_alice_answered_two_people_in_two_communities() -> None:
    archive = read_outbox_json(io.BytesIO(outbox_json()))
    summary = summarise("alice@social.example", archive.interactions).as_json()
    assert {k: summary[k] for k in ("interactions", "answers_to_others", "people_helped",
                                    "acknowledged", "counted_acknowledgements", "communities",
                                    "months_active")} == {
        "interactions": 4, "answers_to_others": 2, "people_helped": 2, "acknowledged": 0,
        "counted_acknowledgements": 0.0, "communities": 2, "months_active": 2}


@pytest.mark.parametrize("data", [b"{", b'{"type": "OrderedCollection"}', b'"x"'])
def test_what_is_not_an_outbox_is_unreadable(data: bytes) -> None:
    with pytest.raises(ArchiveUnreadable):
        read_outbox_json(io.BytesIO(data))
