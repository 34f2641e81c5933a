"""Key rotation and retirement after a compromise, from the staff pages to every verifier.

Three verifiers see each credential: the service's own (``services.verification.verify``),
the W3C VC API (``POST /credentials/verify``), and ``issuer verify --trust did.json`` with the
DID document as served at ``/issuers/<slug>/did.json`` (no database, no records).
"""

from __future__ import annotations

import json
import stat
import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from issuer.cli import main as cli
from issuer.core.proofs.data_integrity import SuiteContext, sign_document, without_proof
from issuer.core.proofs.registry import SIGNING_SUITES
from issuer.services.achievements import get_achievement
from issuer.services.awards import AwardRequest, Recipient, award
from issuer.services.context import ServiceContext
from issuer.services.issuers import get_issuer
from issuer.services.keys import key_report, report_compromised, rotate_key
from issuer.services.verification import verify
from issuer.storage.models import Credential, SigningKey
from tests.conftest import World
from tests.web.admin.test_pages import location_path, page, signed_in_as, snapshot, submit

KEYS = "/admin/issuers/guild/keys"
DID = "did:web:badges.test:issuers:guild"
JAN = datetime(2025, 1, 10, 10, 0, tzinfo=UTC)
MAR = datetime(2025, 3, 10, 10, 0, tzinfo=UTC)
COMPROMISED = "2025-02-01T00:00:00Z"
REASON = f"which its issuer reports compromised since {COMPROMISED}; re-issue the badge"


@pytest.fixture()
def staff(client: FlaskClient, world: World) -> FlaskClient:
    return signed_in_as(client, world.staff_email)


def award_at(session: Session, ctx: ServiceContext, when: datetime | None,
             name: str) -> dict[str, Any]:
    """A badge of "guild" awarded (and signed) at ``when``; its stored JSON."""
    at = ctx if when is None else replace(ctx, clock=lambda: when)
    issuer = get_issuer(session, "guild")
    row = award(session, at, issuer, get_achievement(session, issuer, "peer-scaffolder"),
                AwardRequest(recipient=Recipient.parse(f"{name.lower()}@example.org", name)))
    session.commit()
    document: dict[str, Any] = json.loads(row.document)
    return document


def keys_of(session: Session, slug: str = "guild") -> list[SigningKey]:
    session.expire_all()
    issuer = get_issuer(session, slug)
    return list(issuer.keys)


@dataclass
class Verdict:
    valid: bool
    reason: str


class Verifiers:
    """The same credential through the three verifiers."""

    def __init__(self, client: FlaskClient, session: Session, ctx: ServiceContext,
                 tmp: Path) -> None:
        self.client, self.session, self.ctx, self.tmp = client, session, ctx, tmp

    def service(self, credential: dict[str, Any]) -> Verdict:
        report = verify(self.session, self.ctx, credential)
        self.session.rollback()
        proof = report.check("proof")
        return Verdict(report.valid, proof.message if proof else "")

    def vc_api(self, credential: dict[str, Any]) -> Verdict:
        response = self.client.post("/credentials/verify",
                                    json={"verifiableCredential": credential})
        body = response.get_json()
        assert response.status_code == (200 if body["verified"] else 422)
        return Verdict(body["verified"], " | ".join(e["message"] for e in body["errors"]))

    def cli(self, credential: dict[str, Any]) -> Verdict:
        response = self.client.get("/issuers/guild/did.json")
        assert response.status_code == 200
        trust = self.tmp / f"did-{uuid.uuid4().hex}.json"
        trust.write_bytes(response.data)
        path = self.tmp / f"badge-{uuid.uuid4().hex}.json"
        path.write_text(json.dumps(credential), encoding="utf-8")
        result = CliRunner().invoke(cli, ["verify", "--json", "--trust", str(trust), str(path)])
        assert result.exit_code in (0, 1), result.output
        report = json.loads(result.output)
        assert (result.exit_code == 0) == report["valid"]
        proof = next(c for c in report["checks"] if c["id"] == "proof")
        return Verdict(report["valid"], proof["message"])

    def all(self, credential: dict[str, Any]) -> list[Verdict]:
        return [self.service(credential), self.vc_api(credential), self.cli(credential)]


@pytest.fixture()
def verifiers(client: FlaskClient, session: Session, ctx: ServiceContext,
              tmp_path: Path) -> Verifiers:
    return Verifiers(client, session, ctx, tmp_path)


def did_document(client: FlaskClient) -> dict[str, Any]:
    response = client.get("/issuers/guild/did.json")
    assert response.status_code == 200
    document: dict[str, Any] = json.loads(response.data)
    return document


def report_form(staff: FlaskClient, **fields: str) -> Any:
    data = {"key": "key-1", "date": "2025-02-01", "time": "", "confirm": "yes", **fields}
    return submit(staff, KEYS, data, action=f"{KEYS}/compromised")


# --- rotation -------------------------------------------------------------------------------


def test_after_rotation_badges_signed_before_and_after_both_verify(
    staff: FlaskClient, session: Session, ctx: ServiceContext, verifiers: Verifiers
) -> None:
    before = award_at(session, ctx, JAN, "Ada")
    assert before["proof"][0]["verificationMethod"] == f"{DID}#key-1"
    listing = page(staff, KEYS)
    assert "Rotate key" in listing and "<code>key-1</code>" in listing

    response = submit(staff, KEYS, {}, action=f"{KEYS}/rotate")
    assert response.status_code == 302 and location_path(response) == KEYS
    assert "key-2 now signs the badges Guild Guild awards" in page(staff, KEYS)

    old, new = keys_of(session)
    assert (old.fragment, old.active, new.fragment, new.active) == ("key-1", False, "key-2", True)
    assert old.retired_at is not None and old.compromised_since is None
    assert new.key_type == "Ed25519"
    key_file = ctx.keystore.directory / new.key_file
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    session.rollback()

    after = award_at(session, ctx, None, "Grace")
    assert after["proof"][0]["verificationMethod"] == f"{DID}#key-2"
    for credential in (before, after):
        for verdict in verifiers.all(credential):
            assert verdict.valid, verdict.reason

    document = did_document(staff)
    ids = [m["id"] for m in document["verificationMethod"]]
    assert ids == [f"{DID}#key-1", f"{DID}#key-2"]
    assert document["assertionMethod"] == ids
    assert all("revoked" not in m for m in document["verificationMethod"])


def test_rotation_needs_the_csrf_token(staff: FlaskClient, session: Session) -> None:
    before = snapshot(session)
    assert staff.post(f"{KEYS}/rotate").status_code == 400
    assert staff.get(f"{KEYS}/rotate").status_code == 405
    assert snapshot(session) == before


# --- retirement after a compromise ----------------------------------------------------------


def test_a_compromise_fails_what_the_key_signed_afterwards_in_every_verifier(
    staff: FlaskClient, session: Session, ctx: ServiceContext, verifiers: Verifiers
) -> None:
    early = award_at(session, ctx, JAN, "Ada")
    late = award_at(session, ctx, MAR, "Bob")
    for credential in (early, late):
        assert all(v.valid for v in verifiers.all(credential))

    response = report_form(staff)
    assert response.status_code == 302 and location_path(response) == KEYS
    listing = page(staff, KEYS)
    assert f"key-1 is reported compromised since {COMPROMISED}" in listing
    assert "1 badge signed with it from then on no longer verifies: re-issue it." in listing
    assert "It was the signing key, so key-2 signs new badges from now on." in listing

    old, new = keys_of(session)
    assert old.compromised_since == datetime(2025, 2, 1, tzinfo=UTC)
    assert not old.active and old.retired_at is not None
    assert new.active and new.compromised_since is None
    session.rollback()

    fresh = award_at(session, ctx, None, "Grace")
    assert fresh["proof"][0]["verificationMethod"] == f"{DID}#key-2"
    for credential in (early, fresh):
        for verdict in verifiers.all(credential):
            assert verdict.valid, verdict.reason
    service, vc_api, offline = verifiers.all(late)
    assert not service.valid and not vc_api.valid and not offline.valid
    assert f"signed on 2025-03-10T10:00:00Z (according to the records of this service) " \
           f"with key {DID}#key-1, {REASON}" in service.reason
    assert REASON in vc_api.reason
    # Offline there are no records: the proof's own date is all there is.
    assert f"signed on 2025-03-10T10:00:00Z (according to its proof) with key {DID}#key-1, " \
           f"{REASON}" in offline.reason

    document = did_document(staff)
    methods = {m["id"]: m for m in document["verificationMethod"]}
    assert methods[f"{DID}#key-1"]["revoked"] == COMPROMISED
    assert "revoked" not in methods[f"{DID}#key-2"]
    # Still listed: the revoked date, not its absence, is what tells old from new.
    assert document["assertionMethod"] == [f"{DID}#key-1", f"{DID}#key-2"]

    rows = {r.fragment: r for r in key_report(session, ctx, get_issuer(session, "guild"))}
    assert (rows["key-1"].signed, rows["key-1"].signed_after_compromise) == (2, 1)
    assert (rows["key-2"].signed, rows["key-2"].signed_after_compromise) == (1, None)
    session.rollback()


def test_a_back_dated_proof_does_not_fool_the_service(
    session: Session, ctx: ServiceContext, verifiers: Verifiers, world: World
) -> None:
    """A thief with the old key can write any ``created``; the records say what was issued."""
    early = award_at(session, ctx, JAN, "Ada")
    late = award_at(session, ctx, MAR, "Bob")
    issuer = get_issuer(session, "guild")
    old = issuer.keys[0]
    stolen = ctx.keystore.load(old.key_file)
    report_compromised(session, ctx, old, datetime(2025, 2, 1, tzinfo=UTC))
    session.commit()

    def resign(document: dict[str, Any]) -> dict[str, Any]:
        return sign_document(without_proof(document), SIGNING_SUITES["eddsa-rdfc-2022"],
                             stolen, verification_method=f"{DID}#key-1",
                             ctx=SuiteContext(loader=ctx.loader), created="2025-01-20T00:00:00Z")

    # The late badge, signed again with a date before the compromise.
    verdict = verifiers.service(resign(late))
    assert not verdict.valid
    assert "signed on 2025-03-10T10:00:00Z (according to the records of this service)" in (
        verdict.reason)
    # The early badge with other contents.
    changed = dict(early, name="Master Scaffolder")
    verdict = verifiers.service(resign(changed))
    assert not verdict.valid and "its contents differ from the records" in verdict.reason
    # A badge the service never issued, under a fresh id.
    invented = dict(early, id=f"http://badges.test/credentials/{uuid.uuid4()}")
    for verdict in verifiers.service(resign(invented)), verifiers.vc_api(resign(invented)):
        assert not verdict.valid and "not issued by this service" in verdict.reason
    # Other ids are searched for too (the VC API keeps ids such as urn:uuid:…).
    urn = dict(early, id=f"urn:uuid:{uuid.uuid4()}")
    assert "not issued by this service" in verifiers.service(resign(urn)).reason
    # The early badge itself, signed again before the compromise, is what was issued.
    assert verifiers.service(resign(early)).valid
    assert session.scalar(select(Credential).where(Credential.id == invented["id"])) is None


def test_records_name_the_key_that_signed(session: Session, ctx: ServiceContext,
                                          verifiers: Verifiers, world: World) -> None:
    """A stored badge presented with a proof by another of the issuer's keys is refused."""
    original = award_at(session, ctx, JAN, "Ada")
    issuer = get_issuer(session, "guild")
    new = rotate_key(session, ctx, issuer)
    session.commit()
    other = sign_document(without_proof(original), SIGNING_SUITES["eddsa-rdfc-2022"],
                          ctx.keystore.load(new.key_file), verification_method=f"{DID}#key-2",
                          ctx=SuiteContext(loader=ctx.loader), created="2025-01-10T10:00:00Z")
    verdict = verifiers.service(other)
    assert not verdict.valid
    assert f"say {original['id']} was signed with {DID}#key-1, not with {DID}#key-2" in (
        verdict.reason)


# --- the staff page: who may, and what is refused ------------------------------------------


def test_staff_of_another_issuer_can_neither_see_rotate_nor_retire(
    client: FlaskClient, session: Session, ctx: ServiceContext, world: World
) -> None:
    award_at(session, ctx, JAN, "Ada")
    intruder = signed_in_as(client, world.other_staff_email)
    own = "/admin/issuers/other/keys"
    assert client.get(KEYS).status_code == 403
    before = snapshot(session)
    assert submit(intruder, own, {}, action=f"{KEYS}/rotate").status_code == 403
    response = submit(intruder, own, {"key": "key-1", "date": "2025-02-01", "confirm": "yes"},
                      action=f"{KEYS}/compromised")
    assert response.status_code == 403
    # Through their own issuer's form, naming the other issuer's key, is no better.
    for name in ("guild#key-1", f"{DID}#key-1"):
        response = submit(intruder, own, {"key": name, "date": "2025-02-01", "confirm": "yes"},
                          action=f"{own}/compromised")
        assert response.status_code == 422
        assert (f"There is no key &#39;{name}&#39; among the keys of Other Guild"
                in response.get_data(as_text=True))
    assert snapshot(session) == before


@pytest.mark.parametrize(("fields", "message"), [
    ({"key": "key-9"}, "There is no key &#39;key-9&#39; among the keys of Guild Guild"),
    ({"key": ""}, "Choose the key."),
    ({"date": ""}, "Enter the date the key was compromised."),
    ({"date": "01/02/2025"}, "Enter a date like 2025-03-01"),
    ({"time": "25:99"}, "Enter a date like 2025-03-01"),
    ({"date": "0001-01-01"}, "Enter a date like 2025-03-01"),
    ({"date": "2999-01-01"}, "is in the future"),
    ({"confirm": ""}, "Tick the box to confirm"),
])
def test_bad_reports_are_refused_and_change_nothing(
    staff: FlaskClient, session: Session, fields: dict[str, str], message: str
) -> None:
    before = snapshot(session)
    response = report_form(staff, **fields)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message in html
    assert 'class="error-summary"' in html
    assert snapshot(session) == before


def test_a_compromise_date_moves_only_earlier(staff: FlaskClient, session: Session) -> None:
    assert report_form(staff, date="2025-02-01", time="12:30").status_code == 302
    before = snapshot(session)
    response = report_form(staff, date="2025-03-01")
    assert response.status_code == 422
    assert "that date can only be moved earlier" in response.get_data(as_text=True)
    assert snapshot(session) == before
    assert report_form(staff, date="2025-01-15").status_code == 302
    old = keys_of(session)[0]
    assert old.compromised_since == datetime(2025, 1, 15, tzinfo=UTC)
    # The replacement was created once, by the first report.
    assert [k.fragment for k in keys_of(session)] == ["key-1", "key-2"]


def test_the_page_shows_the_report_and_never_key_material(
    staff: FlaskClient, session: Session, ctx: ServiceContext
) -> None:
    award_at(session, ctx, JAN, "Ada")
    award_at(session, ctx, MAR, "Bob")
    assert report_form(staff).status_code == 302
    html = page(staff, KEYS)
    row = html.split("<code>key-1</code>", 1)[1].split("</tr>", 1)[0]
    assert f"Compromised since {COMPROMISED}" in row
    assert "<td>2</td>" in row and "<td>1 <span" in row
    assert "<strong>Active</strong>" in html.split("<code>key-2</code>", 1)[1].split("</tr>")[0]
    assert "PRIVATE KEY" not in html and ".pem" not in html
    assert 'href="/admin/issuers/guild/keys"' in page(staff, "/admin/issuers/guild")
