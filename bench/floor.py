"""The least one award a request can cost on this stack, beside what an award costs.

Issue 19's goal for a single award is at most 60 raw Ed25519 signatures of server CPU. This
measures how far the parts every award request must go through allow that: one process
builds the app as ``issuer serve`` does and calls it directly (no HTTP server; gunicorn adds
0.15–0.2 ms a request, see ``server_cpu``) and times, in :data:`ROUNDS` interleaved rounds,
each against a raw signature timed at the start of the same round:

- ``GET /healthz`` (Flask and the product's request hooks: the floor of any request);
- ``GET /api/v1/issuer`` (the same with the bearer token's check);
- ``POST /api/v1/awards``, as served;
- a *stripped award*: a route registered on this app for the measurement only, which does
  the least an award can do with the same parts — one indexed query each for the token and
  the achievement (no per-process copies to check, no ORM instances), a status index taken
  as awards take it, the same building and signing, the credential and a fixed mail written
  with one Core INSERT each, the same commit — and none of what the product adds around it
  (no request schema, no mail template, no ``Idempotency-Key``, no answer beyond the
  credential's text). It is not an award the product could ship: it trusts its copies of
  the issuer and achievement without checking them;
- building and signing a credential alone, with no request around it.

Reported per kind: the median ratio to a raw signature over the rounds, with the smallest and
largest seen (this machine's speed moves by a third within a minute, so single rounds
scatter). No target: the goal is judged by ``server_cpu``; this shows what the goal leaves for
the rest. SQLite, and PostgreSQL when reachable (its server's CPU is not counted here).
"""

from __future__ import annotations

import json
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench.databases import backends
from bench.http import ACHIEVEMENT_SLUG, ISSUER_SLUG
from bench.in_process import caller, installation
from bench.measures import Report

ROUNDS, QUICK_ROUNDS = 12, 3
#: Calls of each kind per round (requests; signatures ten times as many).
PER_ROUND = 300
WARMUP = 50
BASE = "http://127.0.0.1:9"
STRIPPED = "stripped award (in-process, see bench/floor.py)"
BUILD_SIGN = "build and sign one credential (no request)"
KINDS = ("GET /healthz", "GET /api/v1/issuer", "POST /api/v1/awards", STRIPPED, BUILD_SIGN)


def _cpu_ms(fn: Callable[[], object], count: int) -> float:
    began = time.process_time()
    for _ in range(count):
        fn()
    return (time.process_time() - began) / count * 1000.0


def _kinds(token: str) -> dict[str, Callable[[], object]]:
    """Build the app in this process (its settings from the environment) and the calls."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from flask import Response, request
    from sqlalchemy import bindparam, select
    from sqlalchemy.orm import selectinload

    from issuer.app import create_app
    from issuer.services.awards import AwardRequest, Recipient, build_credential
    from issuer.services.mail import message_values
    from issuer.services.secret_digest import digest
    from issuer.services.signing import sign_as
    from issuer.services.status_lists import reserved
    from issuer.storage.learning import MailMessage
    from issuer.storage.models import Achievement, ApiToken, Credential, Issuer
    from issuer.web.context import csrf, db, services

    app = create_app()
    tokens, achievements = ApiToken.__table__, Achievement.__table__
    token_query = (select(tokens.c.issuer_id, tokens.c.revoked_at)
                   .where(tokens.c.token_hash == bindparam("digest")))
    achievement_query = select(achievements.c.id, achievements.c.name).where(
        achievements.c.issuer_id == bindparam("issuer"), achievements.c.slug == bindparam("slug"))
    copies: dict[str, Any] = {}

    def stripped() -> Response:
        body = request.get_json()
        session, ctx = db(), services()
        connection = session.connection()
        plain = request.headers["Authorization"].removeprefix("Bearer ")
        found = connection.execute(token_query, {"digest": digest(plain)}).first()
        if found is None or found.revoked_at is not None:
            return Response(status=401)
        row = connection.execute(achievement_query, {"issuer": found.issuer_id,
                                                     "slug": body["achievement"]}).first()
        issuer, achievement = copies["issuer"], copies["achievement"]
        recipient = body["recipient"]
        award = AwardRequest(recipient=Recipient.parse(recipient["email"], recipient.get("name")))
        with reserved(session, ctx, issuer) as slot:
            credential_id, now = str(uuid.uuid4()), ctx.now()
            signed = sign_as(ctx, issuer, build_credential(
                ctx, issuer, achievement, award, credential_id, now, slot.entries), now)
            text = json.dumps(signed.document, ensure_ascii=False, separators=(",", ":"))
            connection.execute(Credential.__table__.insert(), {
                "id": credential_id, "issuer_id": issuer.id, "achievement_id": row.id,
                "signing_key_id": signed.key.id, "recipient_name": award.recipient.name,
                "recipient_email": award.recipient.email, "achievement_name": row.name,
                "proof_format": "eddsa-rdfc-2022", "document": text, "issued_at": now,
                "status_allocation_id": slot.allocation_id})
            connection.execute(MailMessage.__table__.insert(), message_values(
                ctx, to=award.recipient.email, subject=f"You earned {row.name}",
                body=f"{ctx.base}/credentials/{credential_id}", kind="award",
                credential_id=credential_id))
        return Response(text, 201, mimetype="application/json")

    app.add_url_rule("/bench-stripped-award", "bench_stripped_award", stripped,
                     methods=["POST"])
    csrf.exempt(stripped)

    call = caller(app, token, BASE)

    call("POST", "/api/v1/achievements", json.dumps({
        "slug": ACHIEVEMENT_SLUG, "name": "Benchmark Badge",
        "description": "Issued by the performance benchmark.",
        "criteria": {"narrative": "Be sent by the benchmark."}}).encode(), 201)
    with app.test_request_context("/"):
        session = db()
        issuer = session.scalars(select(Issuer).where(Issuer.slug == ISSUER_SLUG)
                                 .options(selectinload(Issuer.keys))).one()
        achievement = session.scalars(select(Achievement).where(
            Achievement.issuer_id == issuer.id, Achievement.slug == ACHIEVEMENT_SLUG)).one()
        # Every attribute loaded, so the detached copies never need their session again.
        for obj in (issuer, achievement, *issuer.keys):
            for attribute in type(obj).__mapper__.attrs:
                getattr(obj, attribute.key)
        session.expunge_all()
        copies.update(issuer=issuer, achievement=achievement)
        ctx = services()
        sample = AwardRequest(recipient=Recipient.parse("learner@bench.test", "Learner"))
        entries = [{"id": f"{BASE}/status/{n}#7", "type": "BitstringStatusListEntry",
                    "statusPurpose": purpose, "statusListIndex": "7",
                    "statusListCredential": f"{BASE}/status/{n}"}
                   for n, purpose in ((1, "revocation"), (2, "suspension"))]

        def build_and_sign() -> None:
            now = ctx.now()
            sign_as(ctx, issuer, build_credential(ctx, issuer, achievement, sample,
                                                  str(uuid.uuid4()), now, entries), now)

        build_and_sign()

    numbers = iter(range(10**9))

    def award(path: str) -> bytes:
        number = next(numbers)
        return call("POST", path, json.dumps({"achievement": ACHIEVEMENT_SLUG, "recipient": {
            "email": f"learner{number}@bench.test", "name": f"Learner {number}"}}).encode(), 201)

    key = Ed25519PrivateKey.generate()
    message = bytes(range(64))
    return {
        "signature": lambda: key.sign(message),
        "GET /healthz": lambda: call("GET", "/healthz", None, 200),
        "GET /api/v1/issuer": lambda: call("GET", "/api/v1/issuer", None, 200),
        "POST /api/v1/awards": lambda: award("/api/v1/awards"),
        STRIPPED: lambda: award("/bench-stripped-award"),
        BUILD_SIGN: build_and_sign,
    }


def ratios(token: str, rounds: int, per_round: int = PER_ROUND,
           warmup: int = WARMUP) -> dict[str, list[float]]:
    """Each kind's CPU per call against the round's raw signature, one value per round.
    The app is built from the ``ISSUER_*`` settings in this process's environment."""
    kinds = _kinds(token)
    for fn in kinds.values():
        for _ in range(warmup):
            fn()
    seen: dict[str, list[float]] = {kind: [] for kind in KINDS}
    for _ in range(rounds):
        signature = _cpu_ms(kinds["signature"], per_round * 10)
        for kind in KINDS:
            seen[kind].append(_cpu_ms(kinds[kind], per_round) / signature)
    return seen


def _measure_backend(backend: str, rounds: int) -> dict[str, list[float]]:
    with tempfile.TemporaryDirectory(prefix="issuer-bench-floor-") as tmp, \
            installation(backend, Path(tmp), BASE) as (settings, token), \
            environment(settings):
        return ratios(token, rounds)


@contextmanager
def environment(settings: dict[str, str]) -> Iterator[None]:
    """``settings`` in this process's environment until the block ends (the app reads its
    settings from there)."""
    earlier = {name: os.environ.get(name) for name in settings}
    os.environ.update(settings)
    try:
        yield
    finally:
        for name, value in earlier.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def run(quick: bool = False) -> Report:
    report = Report(title="the least an award costs on this stack, in-process, in raw "
                          "Ed25519 signatures (median of rounds, smallest–largest)")
    rounds = QUICK_ROUNDS if quick else ROUNDS
    for backend in backends():
        seen = _measure_backend(backend, rounds)
        for kind in KINDS:
            values = seen[kind]
            report.add(f"{backend}: {kind} (x signature; {min(values):.0f}–{max(values):.0f})",
                       statistics.median(values), "x")
        stripped = [s / a for s, a in zip(seen[STRIPPED], seen["POST /api/v1/awards"],
                                           strict=True)]
        report.ratios[f"{backend}: stripped award / award, same round (median)"] = (
            statistics.median(stripped))
    report.notes.append("HTTP (gunicorn) is not in these figures: it adds 0.15–0.2 ms, "
                        "about 5 signatures, a request (server_cpu)")
    return report
