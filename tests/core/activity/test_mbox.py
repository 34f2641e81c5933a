"""Mailing-list archives (mbox)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from issuer.core.activity.mbox import read_mbox
from issuer.core.activity.model import THANKS, ArchiveUnreadable, Limits
from issuer.core.activity.rules import summarise
from tests.core.activity.archives import mbox_file


@pytest.fixture
def archive_path(tmp_path: Path) -> Path:
    path = tmp_path / "help.mbox"
    path.write_bytes(mbox_file())
    return path


def test_messages_thread_by_their_headers_and_thanks_acknowledge(archive_path: Path) -> None:
    archive = read_mbox(archive_path)
    assert archive.source_sha256 == hashlib.sha256(mbox_file()).hexdigest()
    assert [(e.item, e.message) for e in archive.errors] == [(6, "a message without a Message-ID")]
    posts = {p.post_id: p for p in archive.interactions}
    answer = posts["m2@lists.example"]
    assert answer.author == "helper@example.net" and answer.reply_to_person == "ann@example.org"
    assert answer.community == "help.lists.example" and answer.thread == "m1@lists.example"
    assert [(m.kind, m.by) for m in answer.acknowledgements] == [(THANKS, "ann@example.org")]
    # dan only quoted the thanks.
    assert not posts["m4@lists.example"].says_thanks
    assert posts["m5@lists.example"].author == "helper@example.net"


def test_helper_helped_two_and_was_thanked_once(archive_path: Path) -> None:
    summary = summarise("helper@example.net", read_mbox(archive_path).interactions).as_json()
    assert {k: summary[k] for k in ("interactions", "answers_to_others", "people_helped",
                                    "acknowledged", "acknowledging_people",
                                    "counted_acknowledgements", "months_active")} == {
        "interactions": 2, "answers_to_others": 2, "people_helped": 2, "acknowledged": 1,
        "acknowledging_people": 1, "counted_acknowledgements": 1.0, "months_active": 2}


def test_what_is_not_an_mbox_is_unreadable(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("Dear diary\n", encoding="utf-8")
    with pytest.raises(ArchiveUnreadable, match="not an mbox"):
        read_mbox(path)


def test_limits(archive_path: Path) -> None:
    with pytest.raises(ArchiveUnreadable, match="larger than"):
        read_mbox(archive_path, limits=Limits(max_bytes=100))
    archive = read_mbox(archive_path, limits=Limits(max_items=2))
    assert archive.truncated and len(archive.interactions) == 2


def test_a_bad_date_is_an_item_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.mbox"
    path.write_bytes(mbox_file().replace(b"Date: Sun, 02 Jun 2024 10:00:00 +0200",
                                         b"Date: the second of June"))
    archive = read_mbox(path)
    assert [e.item for e in archive.errors] == [3, 6]
