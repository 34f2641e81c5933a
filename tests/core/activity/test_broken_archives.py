"""Whatever a file holds, an importer ends in an archive (with item errors) or in
ArchiveUnreadable: never in another exception."""

from __future__ import annotations

import io
import random
from collections.abc import Callable
from pathlib import Path

import pytest

from issuer.core.activity import discourse, mastodon, mbox, stackexchange
from issuer.core.activity.model import Archive, ArchiveUnreadable
from issuer.core.activity.rules import summarise
from tests.core.activity.archives import (
    SE_POSTS,
    USER_ARCHIVE_CSV,
    USERS_XML,
    discourse_topic,
    mbox_file,
    outbox_json,
    posts_xml,
    se_api_json,
)

Reader = Callable[[bytes, Path], Archive]


def _stream(read: Callable[..., Archive], **options: object) -> Reader:
    return lambda data, _folder: read(io.BytesIO(data), **options)


def _mbox(data: bytes, folder: Path) -> Archive:
    path = folder / "list.mbox"
    path.write_bytes(data)
    return mbox.read_mbox(path)


CASES: list[tuple[str, bytes, Reader]] = [
    ("posts.xml", posts_xml(SE_POSTS), _stream(stackexchange.read_posts_xml)),
    ("posts.xml, one person", posts_xml(SE_POSTS),
     _stream(stackexchange.read_posts_xml, handle="10")),
    ("users.xml", USERS_XML, _stream(stackexchange.read_users_xml)),
    ("api.json", se_api_json(), _stream(stackexchange.read_api_json)),
    ("topic.json", discourse_topic(), _stream(discourse.read_topic_json)),
    ("user_archive.csv", USER_ARCHIVE_CSV,
     _stream(discourse.read_user_archive_csv, owner="tom")),
    ("outbox.json", outbox_json(), _stream(mastodon.read_outbox_json)),
    ("mbox", mbox_file(), _mbox),
]


def _mutations(data: bytes, seed: int) -> list[bytes]:
    chooser = random.Random(seed)
    found = [data[:cut] for cut in range(0, len(data), max(1, len(data) // 25))]
    alphabet = b'<>"{}[],:\\/\n\x00\xff\xc3&;#-0123456789'
    for _ in range(150):
        mutated = bytearray(data)
        for _ in range(chooser.randrange(1, 6)):
            at = chooser.randrange(len(mutated))
            action = chooser.randrange(3)
            if action == 0:
                mutated[at] = chooser.choice(alphabet)
            elif action == 1:
                del mutated[at:at + chooser.randrange(1, 40)]
            else:
                mutated[at:at] = data[chooser.randrange(len(data)):][:chooser.randrange(1, 60)]
        found.append(bytes(mutated))
    return found


@pytest.mark.parametrize(("name", "data", "read"), CASES, ids=[c[0] for c in CASES])
def test_broken_files_never_crash(tmp_path: Path, name: str, data: bytes,
                                  read: Reader) -> None:
    outcomes = {"read": 0, "unreadable": 0}
    for mutated in _mutations(data, seed=len(name)):
        try:
            archive = read(mutated, tmp_path)
        except ArchiveUnreadable:
            outcomes["unreadable"] += 1
            continue
        outcomes["read"] += 1
        summarise("10", archive.interactions, archive.accounts_created)
    assert outcomes["read"] > 0
