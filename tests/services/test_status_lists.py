"""Status lists: random unique indexes, the published signed list, its caching, new lists.

W3C Bitstring Status List v1.0 on the real database (SQLite, and PostgreSQL when
ISSUER_TEST_DATABASE_URL is set), through the real app.
"""

from __future__ import annotations

import itertools
import json
import multiprocessing
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, func, insert, inspect, select, text
from sqlalchemy.orm import Session

from issuer.app import runtime
from issuer.config import Settings
from issuer.core.status_list import MIN_ENTRIES, Bitstring
from issuer.runtime import build_runtime
from issuer.services import status_lists
from issuer.services.achievements import get_achievement
from issuer.services.awards import AwardRequest, Recipient, award
from issuer.services.context import ServiceContext
from issuer.services.errors import Invalid
from issuer.services.issuers import add_key, get_issuer
from issuer.services.revocation import revoke, suspend
from issuer.services.status_lists import LIST_SIZE
from issuer.services.verification import verify
from issuer.storage.db import downgrade, make_engine, upgrade
from issuer.storage.models import Credential, StatusAllocation, StatusList
from tests.conftest import BASE_URL, World

ISSUER_CMD = str(Path(sys.executable).with_name("issuer"))
LIST = "/issuers/guild/status/revocation/1"


def issue(session: Session, ctx: ServiceContext, recipient: str = "ada@example.org",
          slug: str = "guild", **extra: Any) -> Credential:
    issuer = get_issuer(session, slug)
    achievement = get_achievement(session, issuer, "peer-scaffolder")
    row = award(session, ctx, issuer, achievement,
                AwardRequest(recipient=Recipient.parse(recipient), **extra), actor="test")
    session.commit()
    return row


def entries(row: Credential) -> list[dict[str, Any]]:
    status = json.loads(row.document)["credentialStatus"]
    assert isinstance(status, list)
    return status


def index_of(row: Credential) -> int:
    return int(entries(row)[0]["statusListIndex"])


def allocations(session: Session) -> int:
    count = session.scalar(select(func.count()).select_from(StatusAllocation)) or 0
    session.rollback()
    return count


def assert_every_allocation_is_used_or_held(session: Session, others: int = 0) -> None:
    """Each allocated index belongs to one credential or waits in this process's stock
    (``others``: at most that many more, held by processes that have ended)."""
    allocated = set(session.scalars(select(StatusAllocation.id)))
    used = list(session.scalars(select(Credential.status_allocation_id)
                                .where(Credential.status_allocation_id.is_not(None))))
    held = [slot.allocation_id for slot in status_lists.index_blocks(session).held()]
    session.rollback()
    assert len(set(used)) == len(used), "two credentials share an allocation"
    assert not set(used) & set(held), "an index in stock was handed out"
    assert set(used) | set(held) <= allocated
    assert len(allocated - set(used) - set(held)) <= others


def fetch_list(client: FlaskClient, path: str = LIST, **headers: str) -> Any:
    response = client.get(path, headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response


# --- entries and indexes -------------------------------------------------------------------


def test_every_award_carries_a_revocation_and_a_suspension_entry(
    session: Session, ctx: ServiceContext, world: World
) -> None:
    row = issue(session, ctx)
    revocation, suspension = entries(row)
    index = revocation["statusListIndex"]
    assert 0 <= int(index) < LIST_SIZE
    assert revocation == {
        "id": f"{BASE_URL}/issuers/guild/status/revocation/1#{index}",
        "type": "BitstringStatusListEntry",
        "statusPurpose": "revocation",
        "statusListIndex": index,
        "statusListCredential": f"{BASE_URL}/issuers/guild/status/revocation/1",
    }
    # The same index in the suspension list of the same number.
    assert suspension == {
        "id": f"{BASE_URL}/issuers/guild/status/suspension/1#{index}",
        "type": "BitstringStatusListEntry",
        "statusPurpose": "suspension",
        "statusListIndex": index,
        "statusListCredential": f"{BASE_URL}/issuers/guild/status/suspension/1",
    }
    stored = session.get(StatusAllocation, row.status_allocation_id)
    assert stored is not None and (stored.list_number, stored.list_index) == (1, int(index))
    report = verify(session, ctx, row.document)
    assert report.valid, [c.to_json() for c in report.checks]
    status = report.check("status")
    assert status is not None and status.outcome == "passed"
    assert status.details == ("not revoked (checked against the issuer's status list just now)",
                              "not suspended (checked against the issuer's status list just "
                              "now)")


def test_indexes_are_unique_and_do_not_reveal_the_order_of_issuing(
    session: Session, ctx: ServiceContext, world: World
) -> None:
    indexes = [index_of(issue(session, ctx, f"p{i}@example.org")) for i in range(20)]
    assert len(set(indexes)) == 20
    assert indexes != sorted(indexes) and indexes != sorted(indexes, reverse=True)
    steps = {b - a for a, b in itertools.pairwise(indexes)}
    assert len(steps) > 1  # not a constant stride either
    assert max(indexes) - min(indexes) > 1000  # spread over the list, not clustered


def test_each_issuer_has_its_own_lists(session: Session, ctx: ServiceContext,
                                       world: World) -> None:
    ours = issue(session, ctx, slug="guild")
    theirs = issue(session, ctx, slug="other")
    assert entries(ours)[0]["statusListCredential"].startswith(f"{BASE_URL}/issuers/guild/")
    assert entries(theirs)[0]["statusListCredential"].startswith(f"{BASE_URL}/issuers/other/")


def test_a_refused_award_gives_its_index_back(session: Session, ctx: ServiceContext,
                                              world: World) -> None:
    issue(session, ctx)
    issuer = get_issuer(session, "guild")
    achievement = get_achievement(session, issuer, "peer-scaffolder")
    with pytest.raises(Invalid):
        award(session, ctx, issuer, achievement, AwardRequest(
            recipient=Recipient.parse("bob@example.org"), result=[{"no such field": 1}]))
    # The session goes on, as a bulk award does after a refused row.
    kept = award(session, ctx, issuer, achievement,
                 AwardRequest(recipient=Recipient.parse("cy@example.org")))
    session.commit()
    assert session.scalar(select(func.count()).select_from(StatusAllocation).where(
        StatusAllocation.id == kept.status_allocation_id)) == 1
    # The refused award's index is neither kept allocated nor handed out again.
    assert_every_allocation_is_used_or_held(session)


def test_awards_take_their_indexes_from_a_block_and_only_after_it_committed(
    session: Session, ctx: ServiceContext, world: World
) -> None:
    issue(session, ctx)  # opens the lists
    statements: list[str] = []
    engine = session.get_bind()

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO STATUS_ALLOCATIONS"):
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        # A block written in a transaction that is rolled back is never handed out.
        issuer = get_issuer(session, "guild")
        achievement = get_achievement(session, issuer, "peer-scaffolder")
        award(session, ctx, issuer, achievement,
              AwardRequest(recipient=Recipient.parse("gone@example.org")))
        session.rollback()
        assert status_lists.index_blocks(session).held() == []
        rows = [issue(session, ctx, f"p{i}@example.org")
                for i in range(status_lists.BLOCK + 1)]
    finally:
        event.remove(engine, "before_cursor_execute", count)
    # One statement for the rolled back block, one for the block the next BLOCK awards
    # share, and one more for the award after them.
    assert len(statements) == 3, statements
    assert len({index_of(row) for row in rows}) == len(rows)
    assert_every_allocation_is_used_or_held(session)


def test_indexes_of_transactions_that_did_not_commit_are_neither_lost_nor_handed_out_twice(
    session: Session, ctx: ServiceContext, world: World
) -> None:
    issue(session, ctx)  # opens the lists
    issue(session, ctx, "bob@example.org")  # takes a block; the rest is in stock
    blocks = status_lists.index_blocks(session)
    stock = {slot.allocation_id for slot in blocks.held()}
    assert len(stock) == status_lists.BLOCK - 1
    issuer = get_issuer(session, "guild")
    achievement = get_achievement(session, issuer, "peer-scaffolder")
    # An award rolled back: the index it was handed from the stock is free again.
    gone = award(session, ctx, issuer, achievement,
                 AwardRequest(recipient=Recipient.parse("gone@example.org")))
    assert gone.status_allocation_id in stock
    session.rollback()
    assert {slot.allocation_id for slot in blocks.held()} == stock
    # With the stock used up (taken and committed: allocated, unused), the next award
    # takes a block; one written inside a SAVEPOINT that is rolled back is never handed out.
    while blocks.take(session, (issuer.id,)) is not None:
        pass
    session.commit()
    assert blocks.held() == []
    with pytest.raises(RuntimeError), session.begin_nested():
        award(session, ctx, issuer, achievement,
              AwardRequest(recipient=Recipient.parse("nested@example.org")))
        raise RuntimeError("undo the savepoint")
    session.commit()
    assert blocks.held() == []
    kept = issue(session, ctx, "kept@example.org")
    assert session.get(StatusAllocation, kept.status_allocation_id) is not None
    assert len(blocks.held()) == status_lists.BLOCK - 1


def test_a_full_list_is_finished_at_random_and_then_a_new_pair_is_opened(
    session: Session, ctx: ServiceContext, world: World
) -> None:
    first = issue(session, ctx)
    issuer = get_issuer(session, "guild")
    taken = index_of(first)
    last_free = 4242 if taken != 4242 else 4243
    session.execute(insert(StatusAllocation), [
        {"issuer_id": issuer.id, "list_number": 1, "list_index": i,
         "allocated_at": ctx.now()}
        for i in range(LIST_SIZE) if i not in (taken, last_free)])
    session.commit()
    # Random draws all land on taken indexes now; the one free index is still found.
    closing = issue(session, ctx, "closing@example.org")
    assert entries(closing)[0]["statusListCredential"].endswith("/revocation/1")
    assert index_of(closing) == last_free
    opening = issue(session, ctx, "opening@example.org")
    revocation, suspension = entries(opening)
    assert revocation["statusListCredential"] == f"{BASE_URL}/issuers/guild/status/revocation/2"
    assert suspension["statusListCredential"] == f"{BASE_URL}/issuers/guild/status/suspension/2"
    numbers = session.scalars(select(StatusList.number).where(
        StatusList.issuer_id == issuer.id).order_by(StatusList.number)).all()
    assert list(numbers) == [1, 1, 2, 2]
    assert verify(session, ctx, opening.document).valid


def test_a_drawn_index_that_is_taken_is_drawn_again(
    session: Session, ctx: ServiceContext, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = issue(session, ctx)
    taken = index_of(first)
    # Blocks of one: the block's draw, the single allocation's first draw, then its next.
    monkeypatch.setattr(status_lists, "BLOCK", 1)
    draws = iter([taken, taken, 99_999 if taken != 99_999 else 99_998])
    monkeypatch.setattr(status_lists, "draw_index", lambda size: next(draws))
    second = issue(session, ctx, "bob@example.org")
    assert index_of(second) == (99_999 if taken != 99_999 else 99_998)
    assert allocations(session) == 2


# --- issuing at the same time --------------------------------------------------------------


def _issue_in_parallel(app: Flask, workers: int, each: int) -> list[str]:
    """``workers`` threads, each with its own session, issuing ``each`` awards at once.

    Every thread's first draw is the same index, so the database, not luck, has to keep
    the indexes apart.
    """
    rt = runtime(app)
    ctx = rt.services
    start = threading.Barrier(workers)
    issued: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def work(worker: int) -> None:
        session = rt.sessions()
        try:
            issuer = get_issuer(session, "guild")
            achievement = get_achievement(session, issuer, "peer-scaffolder")
            session.rollback()
            start.wait(timeout=60)
            for i in range(each):
                row = award(session, ctx, issuer, achievement, AwardRequest(
                    recipient=Recipient.parse(f"w{worker}-{i}@example.org")))
                session.commit()
                with lock:
                    issued.append(row.id)
        except BaseException as exc:  # reported below, in the test's own thread
            errors.append(exc)
            session.rollback()
        finally:
            session.close()

    threads = [threading.Thread(target=work, args=(w,)) for w in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=600)
    assert errors == []
    return issued


def _check_parallel(session: Session, ctx: ServiceContext, issued: list[str],
                    expected: int) -> None:
    assert len(issued) == expected
    rows = session.scalars(select(Credential).where(Credential.id.in_(issued))).all()
    places = [(json.loads(r.document)["credentialStatus"][0]["statusListCredential"],
               index_of(r)) for r in rows]
    assert len(set(places)) == expected, "two credentials share a status index"
    # Every worker drew 7 first; one got it.
    assert session.scalar(select(func.count()).select_from(StatusAllocation).where(
        StatusAllocation.list_index == 7)) == 1
    assert_every_allocation_is_used_or_held(session)
    rows = session.scalars(select(Credential).where(Credential.id.in_(issued))).all()
    for row in rows:
        report = verify(session, ctx, row.document)
        assert report.valid, [c.to_json() for c in report.failed]


@pytest.fixture()
def same_first_draw(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every thread draws index 7 first, then random ones."""
    local = threading.local()
    real = status_lists.draw_index

    def draw(size: int) -> int:
        if not getattr(local, "drawn", False):
            local.drawn = True
            return 7
        return real(size)

    monkeypatch.setattr(status_lists, "draw_index", draw)


def test_parallel_issuers_get_distinct_indexes(app: Flask, session: Session,
                                               ctx: ServiceContext, world: World,
                                               same_first_draw: None) -> None:
    issued = _issue_in_parallel(app, workers=3, each=4)
    _check_parallel(session, ctx, issued, 12)


@pytest.mark.postgres
@pytest.mark.slow
@pytest.mark.skipif(not os.environ.get("ISSUER_TEST_DATABASE_URL"),
                    reason="needs PostgreSQL (ISSUER_TEST_DATABASE_URL)")
def test_parallel_issuers_on_postgresql_get_distinct_indexes(
    app: Flask, session: Session, ctx: ServiceContext, world: World, same_first_draw: None
) -> None:
    assert runtime(app).engine.dialect.name == "postgresql"
    issued = _issue_in_parallel(app, workers=4, each=25)
    _check_parallel(session, ctx, issued, 100)


def _award_in_process(settings: Settings, worker: int, each: int, start: Any,
                      results: Any) -> None:
    """A process of its own (as a gunicorn worker is) awarding ``each`` badges one by one,
    each in its own transaction, from the moment every process is ready."""
    rt = build_runtime(settings)
    issued: list[str] = []
    try:
        with rt.sessions() as session:
            issuer = get_issuer(session, "guild")
            achievement = get_achievement(session, issuer, "peer-scaffolder")
            session.rollback()
            start.wait(timeout=120)
            for i in range(each):
                row = award(session, rt.services, issuer, achievement, AwardRequest(
                    recipient=Recipient.parse(f"proc{worker}-{i}@example.org")))
                session.commit()
                issued.append(row.id)
        results.put((worker, issued, None))
    except BaseException as exc:  # reported in the test's own process
        results.put((worker, issued, repr(exc)))
    finally:
        rt.engine.dispose()


def test_two_processes_awarding_at_once_get_distinct_indexes(
    app: Flask, session: Session, ctx: ServiceContext, world: World
) -> None:
    issue(session, ctx)  # the lists exist: both processes go straight to taking blocks
    # Blocks smaller than the awards, so each process takes several while the other does.
    each, block = 40, 8
    spawn = multiprocessing.get_context("spawn")
    start, results = spawn.Barrier(2), spawn.Queue()
    processes = [spawn.Process(target=_award_in_blocks_of,
                               args=(block, runtime(app).settings, w, each, start, results))
                 for w in range(2)]
    for process in processes:
        process.start()
    outcomes = [results.get(timeout=600) for _ in processes]
    for process in processes:
        process.join(timeout=60)
    assert [error for _, _, error in outcomes] == [None, None]
    issued = [credential for _, ids, _ in outcomes for credential in ids]
    assert len(issued) == 2 * each
    rows = session.scalars(select(Credential).where(Credential.id.in_(issued))).all()
    places = {(entries(r)[0]["statusListCredential"], index_of(r)) for r in rows}
    assert len(places) == 2 * each, "two credentials share a status index"
    # What the ended processes still held stays allocated, unused: at most a block each.
    assert_every_allocation_is_used_or_held(session, others=2 * (block - 1))
    for row in rows[:5]:
        assert verify(session, ctx, row.document).valid


def _award_in_blocks_of(block: int, *args: Any) -> None:
    status_lists.BLOCK = block
    _award_in_process(*args)


# --- the published list --------------------------------------------------------------------


def decoded(response: Any) -> tuple[dict[str, Any], Bitstring]:
    document = json.loads(response.get_data(as_text=True))
    return document, Bitstring.decode(document["credentialSubject"]["encodedList"])


def test_the_list_is_a_signed_bitstring_status_list_credential(
    client: FlaskClient, session: Session, ctx: ServiceContext, world: World
) -> None:
    row = issue(session, ctx)
    response = fetch_list(client)
    assert response.mimetype == "application/vc+ld+json"
    assert response.headers["Cache-Control"] == "public, max-age=60"
    assert response.headers["ETag"]
    assert "Accept" in response.headers["Vary"]
    document, bits = decoded(response)
    assert document["id"] == f"{BASE_URL}{LIST}"
    assert document["type"] == ["VerifiableCredential", "BitstringStatusListCredential"]
    assert document["issuer"]["id"] == "did:web:badges.test:issuers:guild"
    subject = document["credentialSubject"]
    assert subject["type"] == "BitstringStatusList"
    assert subject["statusPurpose"] == "revocation"
    assert bits.size >= MIN_ENTRIES == 131_072
    assert not bits.get(index_of(row))
    proof = document["proof"]
    proof = proof[0] if isinstance(proof, list) else proof
    assert proof["cryptosuite"] == "eddsa-rdfc-2022"
    assert proof["verificationMethod"] == "did:web:badges.test:issuers:guild#key-1"
    report = verify(session, ctx, document)
    assert report.valid, [c.to_json() for c in report.checks]
    assert client.get(LIST, headers={"Accept": "application/vc"}).mimetype == "application/vc"


def test_an_unchanged_list_answers_304_and_is_not_signed_again(
    client: FlaskClient, session: Session, ctx: ServiceContext, world: World
) -> None:
    issue(session, ctx)
    first = fetch_list(client)
    again = fetch_list(client)
    assert again.get_data() == first.get_data()  # the same signature, not a new one
    assert again.headers["ETag"] == first.headers["ETag"]
    cached = client.get(LIST, headers={"If-None-Match": first.headers["ETag"]})
    assert cached.status_code == 304
    assert cached.get_data() == b""
    assert cached.headers["Cache-Control"] == "public, max-age=60"
    # Issuing more leaves the bits as they were, so the list stays the same.
    issue(session, ctx, "more@example.org")
    assert client.get(LIST, headers={"If-None-Match": first.headers["ETag"]}).status_code == 304


def test_a_revocation_changes_the_list_and_its_etag(
    client: FlaskClient, session: Session, ctx: ServiceContext, world: World
) -> None:
    row = issue(session, ctx)
    other = issue(session, ctx, "bob@example.org")
    before = fetch_list(client)
    suspension_before = fetch_list(client, "/issuers/guild/status/suspension/1")
    revoke(session, ctx, get_issuer(session, "guild"), row.id, reason="Plagiarism",
           actor="test")
    session.commit()
    after = client.get(LIST, headers={"If-None-Match": before.headers["ETag"]})
    assert after.status_code == 200
    assert after.headers["ETag"] != before.headers["ETag"]
    document, bits = decoded(after)
    assert bits.get(index_of(row)) and not bits.get(index_of(other))
    assert document["validFrom"] == session.get(Credential, row.id).status_changed_at.strftime(
        "%Y-%m-%dT%H:%M:%SZ")
    assert verify(session, ctx, document).valid
    # The suspension list did not change: same bytes, same ETag.
    suspension_after = client.get("/issuers/guild/status/suspension/1",
                                  headers={"If-None-Match": suspension_before.headers["ETag"]})
    assert suspension_after.status_code == 304


def test_a_suspension_sets_the_bit_in_the_suspension_list_only(
    client: FlaskClient, session: Session, ctx: ServiceContext, world: World
) -> None:
    row = issue(session, ctx)
    suspend(session, ctx, get_issuer(session, "guild"), row.id, reason="Under review",
            actor="test")
    session.commit()
    _, revocations = decoded(fetch_list(client))
    _, suspensions = decoded(fetch_list(client, "/issuers/guild/status/suspension/1"))
    assert suspensions.get(index_of(row)) and not revocations.get(index_of(row))


def test_a_new_signing_key_signs_the_list_again(
    client: FlaskClient, session: Session, ctx: ServiceContext, world: World
) -> None:
    issue(session, ctx)
    before = fetch_list(client)
    add_key(session, ctx, get_issuer(session, "guild"))
    session.commit()
    after = client.get(LIST, headers={"If-None-Match": before.headers["ETag"]})
    assert after.status_code == 200
    document, _ = decoded(after)
    proof = document["proof"]
    proof = proof[0] if isinstance(proof, list) else proof
    assert proof["verificationMethod"].endswith("#key-2")
    assert verify(session, ctx, document).valid


@pytest.mark.parametrize("path", [
    "/issuers/guild/status/revocation/2",
    "/issuers/guild/status/expiry/1",
    "/issuers/guild/status/revocation/0",
    "/issuers/nobody/status/revocation/1",
])
def test_lists_that_do_not_exist_are_not_found(client: FlaskClient, session: Session,
                                               ctx: ServiceContext, world: World,
                                               path: str) -> None:
    issue(session, ctx)
    response = client.get(path, headers={"Accept": "application/json"})
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"


def test_an_issuer_that_never_issued_has_no_list_yet(client: FlaskClient,
                                                     world: World) -> None:
    assert client.get(LIST).status_code == 404


def test_the_published_list_verifies_with_the_command_line_verifier(
    client: FlaskClient, session: Session, ctx: ServiceContext, world: World, tmp_path: Path
) -> None:
    row = issue(session, ctx)
    revoke(session, ctx, get_issuer(session, "guild"), row.id, reason="x", actor="test")
    session.commit()
    listing = tmp_path / "revocation-1.json"
    listing.write_bytes(fetch_list(client).get_data())
    did = tmp_path / "did.json"
    did.write_bytes(fetch_list(client, "/issuers/guild/did.json").get_data())
    result = subprocess.run([ISSUER_CMD, "verify", str(listing), "--trust", str(did)],
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "VALID" in result.stdout
    # A list changed after signing (a bit cleared to "un-revoke") does not verify.
    document = json.loads(listing.read_text())
    bits = Bitstring.decode(document["credentialSubject"]["encodedList"])
    bits.set(index_of(row), False)
    document["credentialSubject"]["encodedList"] = bits.encode()
    listing.write_text(json.dumps(document))
    forged = subprocess.run([ISSUER_CMD, "verify", str(listing), "--trust", str(did)],
                            capture_output=True, text=True, timeout=120, check=False)
    assert forged.returncode == 1, forged.stdout


# --- the migration -------------------------------------------------------------------------


def test_migration_0003_goes_down_and_up_and_keeps_credentials_active(
    database_url: str,
) -> None:
    engine = make_engine(database_url)
    try:
        downgrade(engine, "0002")
        tables = set(inspect(engine).get_table_names())
        assert not tables & {"status_lists", "status_allocations", "status_events"}
        assert "status" not in {c["name"] for c in inspect(engine).get_columns("credentials")}
        with engine.begin() as conn:
            issuer_id = conn.execute(text(
                "INSERT INTO issuers (slug, name, created_at) "
                "VALUES ('before', 'Before', :now) RETURNING id"), {"now": "2026-01-01T00:00:00Z"}
            ).scalar_one()
            conn.execute(text(
                "INSERT INTO credentials (id, issuer_id, achievement_name, proof_format, "
                "document, issued_at) VALUES ('3c5e7d0a-1b2c-4d3e-8f4a-5b6c7d8e9f00', :i, "
                "'Old', 'eddsa-rdfc-2022', '{}', :now)"),
                {"i": issuer_id, "now": "2026-01-01T00:00:00Z"})
        upgrade(engine)
        with engine.connect() as conn:
            row = conn.execute(text(
                "SELECT status, status_allocation_id FROM credentials WHERE issuer_id = :i"),
                {"i": issuer_id}).one()
        assert tuple(row) == ("active", None)
    finally:
        upgrade(engine)
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM credentials WHERE achievement_name = 'Old'"))
            conn.execute(text("DELETE FROM issuers WHERE slug = 'before'"))
        engine.dispose()


# --- a bulk award's batches ----------------------------------------------------------------


def test_a_batch_takes_its_indexes_at_once_and_drawn_taken_ones_are_left_out(
        session: Session, ctx: ServiceContext, world: World,
        monkeypatch: pytest.MonkeyPatch) -> None:
    first = issue(session, ctx)
    taken = index_of(first)
    free = [i for i in (11, 22, 33, 44) if i != taken][:3]
    draws = iter([taken, *free])
    monkeypatch.setattr(status_lists, "draw_index", lambda size: next(draws))
    issuer = get_issuer(session, "guild")
    slots = status_lists.allocate_many(session, ctx, issuer, 4)
    assert sorted(slot.index for slot in slots) == sorted(free)  # the taken one is not
    assert {slot.number for slot in slots} == {1}
    assert slots[0].entries == status_lists.status_entries(ctx, "guild", 1, slots[0].index)
    session.commit()
    assert allocations(session) == 4
    status_lists.release_many(session, slots[1:])
    session.commit()
    assert allocations(session) == 2
    assert status_lists.allocate_many(session, ctx, get_issuer(session, "other"), 5) == []


def test_a_batch_hands_its_indexes_out_in_random_order(
        session: Session, ctx: ServiceContext, world: World) -> None:
    """Taken in list order by one statement, a batch's indexes handed out in that order
    would show the order of its awards (§6.1)."""
    issue(session, ctx)  # opens the issuer's lists
    slots = status_lists.allocate_many(session, ctx, get_issuer(session, "guild"), 40)
    indexes = [slot.index for slot in slots]
    assert len(set(indexes)) == len(indexes) >= 38
    assert indexes != sorted(indexes) and indexes != sorted(indexes, reverse=True)


def test_a_bulk_award_keeps_one_index_per_credential_when_rows_are_refused(
        app: Flask, session: Session, ctx: ServiceContext, world: World) -> None:
    from datetime import date

    from issuer.jobs.bulk import run_bulk_job
    from issuer.services.bulk import PENDING, create_job, parse_csv, rows_to_issue

    issue(session, ctx)  # the lists exist, so batches take their indexes at once
    # Read as of 2020, the 2021 expiry dates pass the file's check and are refused when
    # issuing: a refused row's index goes to the next row, or back at the batch's end.
    lines = [f"p{i}@example.org,2021-06-01" if i in (1, 4, 5) else f"p{i}@example.org,"
             for i in range(8)]
    parsed = parse_csv(("recipient,valid_until\n" + "\n".join(lines) + "\n").encode(),
                       today=date(2020, 1, 1))
    rows = rows_to_issue(parsed, False)
    issuer = get_issuer(session, "guild")
    achievement = get_achievement(session, issuer, "peer-scaffolder")
    job = create_job(session, ctx, issuer, achievement, status=PENDING, total=len(rows),
                     actor="test")
    session.commit()
    assert run_bulk_job(runtime(app).sessions, ctx, job.id, rows, batch_size=3,
                        notify=False) == "done"
    session.expire_all()
    issued = session.scalars(select(Credential).where(Credential.bulk_job_id == job.id)).all()
    assert sorted(c.recipient_email or "" for c in issued) == [
        f"p{i}@example.org" for i in (0, 2, 3, 6, 7)]
    assert allocations(session) == len(issued) + 1  # and the one issued first
    for row in issued:
        stored = session.get(StatusAllocation, row.status_allocation_id)
        assert stored is not None and stored.list_index == index_of(row)
        assert verify(session, ctx, row.document).valid
    assert len({index_of(row) for row in issued}) == len(issued)


def test_a_verification_reads_the_issuer_once_and_each_status_entry_in_one_statement(
        app: Flask, session: Session, ctx: ServiceContext, world: World) -> None:
    """The issuer (with its keys) is read once though the key, the records and both status
    entries ask for it, by one plain query once this process holds a copy; each entry's
    list and bit come in one statement."""
    kept, revoked = issue(session, ctx), issue(session, ctx, "grace@example.org")
    revoke(session, ctx, get_issuer(session, "guild"), revoked.id, reason="Plagiarism",
           actor="test")
    session.commit()
    engine = runtime(app).engine
    statements: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(" ".join(statement.split()))

    ctx.lookups.clear()
    event.listen(engine, "before_cursor_execute", seen)
    try:
        with runtime(app).sessions() as fresh:
            assert verify(fresh, ctx, kept.document).valid
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    # The first time, the copy is loaded too: the plain query, then the issuer with its keys.
    assert len(statements) == 5 and statements[1].startswith("SELECT issuers."), statements
    for row, valid in ((kept, True), (revoked, False)):
        statements.clear()
        event.listen(engine, "before_cursor_execute", seen)
        try:
            with runtime(app).sessions() as fresh:
                report = verify(fresh, ctx, row.document)
        finally:
            event.remove(engine, "before_cursor_execute", seen)
        assert report.valid is valid
        status = report.check("status")
        assert status is not None
        assert status.details[0].startswith("revoked" if not valid else "not revoked")
        assert status.details[1].startswith("not suspended"), status.details
        assert len(statements) == 4, statements
        issuer_read, credential_read, *entry_reads = statements
        assert issuer_read.startswith("SELECT issuers.") and "JOIN signing_keys" in issuer_read
        assert credential_read.startswith("SELECT credentials.")
        assert all(s.startswith("SELECT status_lists.") for s in entry_reads)


def test_an_index_of_thousands_of_digits_is_outside_the_list_not_a_crash(
        session: Session, ctx: ServiceContext, world: World) -> None:
    document = json.loads(issue(session, ctx).document)
    document["credentialStatus"][0]["statusListIndex"] = "9" * 5000
    report = verify(session, ctx, document)
    status = report.check("status")
    assert status is not None and status.outcome == "warning"
    assert "outside the list" in status.details[0] and len(status.details[0]) < 200
