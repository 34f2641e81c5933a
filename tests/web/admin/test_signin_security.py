"""Sign-in security: the session cookie, stored passwords, and private keys that never leak.

Staff sign in with email and password (``/admin/login``), learners with a one-time emailed
link (``/learn/sign-in``); both end with the ``issuer_session`` cookie, which must be out of
reach of scripts (HttpOnly), not sent on cross-site subrequests (SameSite) and, on a site
served over HTTPS, never sent in clear (Secure). Everything goes through the real pages.
"""

from __future__ import annotations

import base64
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash
from werkzeug.test import TestResponse

from issuer.app import create_app, runtime
from issuer.config import Settings
from issuer.core.keys import PrivateKey
from issuer.core.multibase import ED25519_PRIV, encode_multikey
from issuer.services.context import ServiceContext
from issuer.services.sign_in_throttle import ADDRESS_LIMIT, PAIR_LIMIT, WINDOW
from issuer.services.users import authenticate, create_user
from issuer.storage.learning import MailMessage
from issuer.storage.models import SigningKey, StaffSignInFailure, User
from tests.conftest import PASSWORD, World
from tests.web.admin.test_pages import csrf_token, snapshot

COOKIE = "issuer_session"


@dataclass
class Site:
    """The app served at ``base`` (http or https), and a browser that visits it."""

    app: Flask
    base: str
    browser: FlaskClient

    @property
    def https(self) -> bool:
        return self.base.startswith("https:")

    def get(self, path: str, **kwargs: Any) -> TestResponse:
        return self.browser.get(path, base_url=self.base, **kwargs)

    def post(self, path: str, data: dict[str, str]) -> TestResponse:
        # Over HTTPS the CSRF check also wants a same-origin Referer, as browsers send.
        return self.browser.post(path, base_url=self.base, data=data,
                                 headers={"Referer": f"{self.base}{path}"})


@pytest.fixture(params=["http", "https"])
def site(request: pytest.FixtureRequest, app: Flask, settings: Settings) -> Iterator[Site]:
    """The same database as ``app`` (emptied by it afterwards), at an http or https base."""
    base = f"{request.param}://badges.test"
    served = create_app(replace(settings, base_url=base).validated(), TESTING=True)
    assert runtime(served).settings.secure_cookies is (request.param == "https")
    yield Site(served, base, served.test_client())
    runtime(served).engine.dispose()


def session_cookie(response: TestResponse) -> dict[str, str | bool]:
    """The attributes of the one ``issuer_session`` cookie the response sets, by lower name."""
    found = [h for h in response.headers.getlist("Set-Cookie") if h.startswith(f"{COOKIE}=")]
    assert len(found) == 1, response.headers.getlist("Set-Cookie")
    value, *attributes = (part.strip() for part in found[0].split(";"))
    assert value != f"{COOKIE}="  # a session, not a deletion
    parsed: dict[str, str | bool] = {}
    for attribute in attributes:
        name, has_value, setting = attribute.partition("=")
        parsed[name.lower()] = setting if has_value else True
    return parsed


def assert_protected(cookie: dict[str, str | bool], *, https: bool) -> None:
    assert cookie.get("httponly") is True, cookie
    assert str(cookie.get("samesite", "")).lower() in ("lax", "strict"), cookie
    assert ("secure" in cookie) is https, cookie
    assert cookie.get("path") == "/", cookie
    assert "domain" not in cookie, cookie  # host-only: not shared with other subdomains


# --- the session cookie ------------------------------------------------------------------------


def test_staff_sign_in_sets_a_protected_session_cookie(site: Site, world: World) -> None:
    form = site.get("/admin/login")
    assert form.status_code == 200
    signed_in = site.post("/admin/login", {
        "email": world.staff_email, "password": PASSWORD, "next": "",
        "csrf_token": csrf_token(form.get_data(as_text=True))})
    assert signed_in.status_code == 302, signed_in.get_data(as_text=True)
    assert_protected(session_cookie(signed_in), https=site.https)
    assert site.get("/admin/").status_code == 200  # the cookie is the sign-in


def test_a_failed_staff_sign_in_sets_no_session_for_anyone(site: Site, world: World) -> None:
    form = site.get("/admin/login")
    refused = site.post("/admin/login", {
        "email": world.staff_email, "password": PASSWORD + "!", "next": "",
        "csrf_token": csrf_token(form.get_data(as_text=True))})
    assert refused.status_code == 401
    with site.browser.session_transaction() as cookie_session:
        assert "user_id" not in cookie_session
    assert site.get("/admin/").status_code == 302


def test_learner_sign_in_sets_a_protected_session_cookie(
        site: Site, session: Session) -> None:
    form = site.get("/learn/sign-in")
    sent = site.post("/learn/sign-in", {
        "email": "ada@example.org", "next": "",
        "csrf_token": csrf_token(form.get_data(as_text=True))})
    assert sent.status_code == 303, sent.get_data(as_text=True)  # Post/Redirect/Get
    body = session.scalars(select(MailMessage.body)
                           .where(MailMessage.to_address == "ada@example.org")).one()
    session.rollback()
    link = re.search(re.escape(site.base) + r"(/learn/sign-in/[A-Za-z0-9_-]+)", body)
    assert link, body
    confirm = site.get(link.group(1))
    assert confirm.status_code == 200
    done = site.post(link.group(1), {"csrf_token": csrf_token(confirm.get_data(as_text=True))})
    assert done.status_code == 302, done.get_data(as_text=True)
    assert_protected(session_cookie(done), https=site.https)
    assert site.get("/learn/").status_code == 200


# --- stored passwords ------------------------------------------------------------------------


def _stored_hash(session: Session, email: str) -> str:
    """The column as the database holds it, not as the model presents it."""
    value = session.execute(text("SELECT password_hash FROM users WHERE email = :email"),
                            {"email": email}).scalar_one()
    session.rollback()
    assert isinstance(value, str)
    return value


def test_passwords_are_stored_as_salted_hashes(
        session: Session, ctx: ServiceContext, world: World, client: FlaskClient) -> None:
    third = create_user(session, ctx, email="third@guild.test", name="Third",
                        password=PASSWORD)
    session.commit()
    emails = [world.staff_email, world.other_staff_email, third.email]  # one password
    stored = [_stored_hash(session, email) for email in emails]
    assert len(set(stored)) == len(stored), "the same password gives the same hash: no salt"
    for email, value in zip(emails, stored, strict=True):
        assert PASSWORD not in value and PASSWORD.encode().hex() not in value
        method, salt, digest = value.split("$")
        assert method.split(":")[0] in ("scrypt", "pbkdf2"), method  # slow, not a bare sha256
        assert len(salt) >= 16 and len(digest) >= 64, value
        assert check_password_hash(value, PASSWORD)
        assert not check_password_hash(value, PASSWORD.upper())
        user = authenticate(session, ctx, email, PASSWORD)
        assert user is not None and user.email == email
        assert authenticate(session, ctx, email, PASSWORD + " ") is None
    # The salts are different too (one stored hash cannot be reused to test guesses for all).
    assert len({value.split("$")[1] for value in stored}) == len(stored)
    # Nothing else keeps the password: no table, no column, in any form.
    assert PASSWORD not in repr(snapshot(session))


# --- private keys never leave the key store ----------------------------------------------------


def _secrets(session: Session, ctx: ServiceContext) -> dict[str, bytes]:
    """Every encoding of every issuer private key that could show up by mistake."""
    found: dict[str, bytes] = {}
    rows = list(session.scalars(select(SigningKey)))
    session.rollback()
    assert rows
    for row in rows:
        pem = (ctx.keystore.directory / row.key_file).read_bytes()
        key = serialization.load_pem_private_key(pem, password=None)
        raw = key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                                serialization.NoEncryption())
        body = b"".join(pem.strip().splitlines()[1:-1])  # the PEM's base64 lines
        found.update({
            f"{row.fragment} PEM": pem,
            f"{row.fragment} PEM body": body,
            f"{row.fragment} secretKeyMultibase": encode_multikey(ED25519_PRIV, raw).encode(),
            f"{row.fragment} seed hex": raw.hex().encode(),
            f"{row.fragment} JWK d": base64.urlsafe_b64encode(raw).rstrip(b"="),
            f"{row.fragment} seed base64": base64.b64encode(raw),
            f"{row.fragment} seed": raw,
        })
    return found


def test_no_private_key_material_in_any_response_or_the_log(
        caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch, app: Flask,
        session: Session, ctx: ServiceContext, world: World) -> None:
    from tests.web.admin.test_pages import signed_in_as, submit

    caplog.set_level(logging.DEBUG)
    answers: list[tuple[str, TestResponse]] = []

    def keep(label: str, response: TestResponse) -> TestResponse:
        answers.append((label, response))
        return response

    staff = signed_in_as(app.test_client(), world.staff_email)
    api = app.test_client()
    token = {"Authorization": f"Bearer {world.token}"}
    guild = "/admin/issuers/guild"

    # Sign and award every way there is: the staff form, the JSON API, the VC API, bulk.
    keep("award form", submit(staff, f"{guild}/award", {
        "achievement": "peer-scaffolder", "recipient": "ada@example.org",
        "recipient_name": "Ada"}))
    awarded = keep("award API", api.post("/api/v1/awards", headers=token, json={
        "achievement": "peer-scaffolder", "recipient": {"email": "bo@example.org"}}))
    assert awarded.status_code == 201
    cid = awarded.get_json()["id"]
    vc = awarded.get_json()["credential"]
    issued = keep("VC API issue", api.post("/credentials/issue", headers=token, json={
        "credential": {"@context": ["https://www.w3.org/ns/credentials/v2"],
                       "type": ["VerifiableCredential"],
                       "credentialSubject": {"id": "did:example:subject"}}}))
    assert issued.status_code == 201, issued.get_data(as_text=True)
    bulk = keep("bulk API", api.post("/api/v1/bulk?achievement=peer-scaffolder",
                                     headers=token, data=b"recipient\ncy@example.org\n",
                                     content_type="text/csv"))
    assert bulk.status_code == 202
    # A rotation makes a new key: it is signed with, then must not show anywhere either.
    keep("rotate", submit(staff, f"{guild}/keys", {}, action=f"{guild}/keys/rotate"))
    keep("award after rotation", api.post("/api/v1/awards", headers=token, json={
        "achievement": "peer-scaffolder", "recipient": {"email": "di@example.org"}}))
    # Signing that breaks half-way: the unexpected-error page and the logged traceback.
    with monkeypatch.context() as patch:
        def broken(self: PrivateKey, message: bytes) -> bytes:
            raise RuntimeError("the signing device stopped answering")

        patch.setattr(PrivateKey, "sign", broken)
        failed_award = keep("failed signing", api.post("/api/v1/awards", headers=token, json={
            "achievement": "peer-scaffolder", "recipient": {"email": "ed@example.org"}}))
    assert failed_award.status_code == 500
    assert any(r.exc_info and "signing device" in caplog.text for r in caplog.records)
    # A learner asks for a sign-in link: the mail is logged (held in the outbox).
    link_form = api.get("/learn/sign-in")
    keep("learner sign-in", api.post("/learn/sign-in", data={
        "email": "ada@example.org", "next": "",
        "csrf_token": csrf_token(link_form.get_data(as_text=True))}))
    assert "held in the outbox" in caplog.text
    keep("verify", api.post("/credentials/verify", json={"verifiableCredential": vc}))
    keep("bad signature", api.post("/credentials/verify", json={"verifiableCredential": {
        **vc, "proof": [{**vc["proof"][0], "proofValue": "z" + "1" * 80}]}}))

    pages = [f"{guild}", f"{guild}/keys", f"{guild}/tokens", f"{guild}/credentials",
             f"{guild}/credentials/{cid}", f"{guild}/award", f"{guild}/bulk", "/admin/"]
    for url in pages:
        keep(url, staff.get(url))
    public = ["/", "/verify", "/issuers/guild", "/issuers/guild?format=json",
              "/issuers/guild/did.json", "/issuers/guild/achievements/peer-scaffolder",
              "/issuers/guild/achievements/peer-scaffolder?format=json",
              f"/credentials/{cid}", f"/credentials/{cid}?format=json",
              f"/credentials/{cid}/download", f"/credentials/{cid}/verify",
              f"/credentials/{cid}/badge.png", f"/credentials/{cid}/badge.svg",
              f"/credentials/{cid}/qr.svg", "/learn/sign-in", "/issuers/nobody/did.json"]
    public += [entry["statusListCredential"].removeprefix("http://badges.test")
               for entry in vc["credentialStatus"]]
    for url in public:
        keep(url, api.get(url))
    for url in ["/api/v1/issuer", "/api/v1/credentials", f"/api/v1/credentials/{cid}",
                f"/api/v1/credentials/{cid}/status", "/api/v1/achievements",
                bulk.headers["Location"]]:
        keep(url, api.get(url, headers=token))
    failed = [(label, r.status_code) for label, r in answers
              if r.status_code >= 500 and label != "failed signing"]
    assert failed == []
    expected_errors = ("bad signature", "/issuers/nobody/did.json", "failed signing")
    assert all(r.status_code < 400 for label, r in answers if label not in expected_errors), [
        (label, r.status_code) for label, r in answers if r.status_code >= 400]

    secrets = _secrets(session, ctx)
    assert len(secrets) >= 2 * 7  # the first key and the rotated one, of "guild"
    logged = caplog.text.encode() + b"".join(
        repr(record.__dict__).encode() for record in caplog.records)
    for label, response in answers:
        data = response.get_data() + repr(dict(response.headers)).encode()
        assert b"PRIVATE KEY-----" not in data, label
        leaked = [name for name, secret in secrets.items() if secret in data]
        assert leaked == [], (label, leaked)
    assert b"PRIVATE KEY-----" not in logged
    leaked = [name for name, secret in secrets.items() if secret in logged]
    assert leaked == [], leaked
    assert PASSWORD.encode() not in logged  # nor the staff password typed at sign-in


# --- guessing staff passwords ------------------------------------------------------------------


class Clock:
    """The service clock, moved by the test."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture()
def clock(app: Flask) -> Clock:
    source = Clock()
    rt = runtime(app)
    rt.services = replace(rt.services, clock=source)
    return source


class Guesser:
    """A browser at one client address that posts the staff sign-in form."""

    def __init__(self, app: Flask, address: str) -> None:
        self.browser = app.test_client()
        self.address = address
        form = self.browser.get("/admin/login", environ_base={"REMOTE_ADDR": address})
        self.token = csrf_token(form.get_data(as_text=True))

    def sign_in(self, email: str, password: str) -> TestResponse:
        return self.browser.post("/admin/login", environ_base={"REMOTE_ADDR": self.address},
                                 data={"email": email, "password": password, "next": "",
                                       "csrf_token": self.token})


def assert_limited(answer: TestResponse) -> int:
    assert answer.status_code == 429, answer.status_code
    wait = int(answer.headers["Retry-After"])
    assert 0 < wait <= WINDOW.total_seconds() + 1
    assert "user_id" not in answer.get_data(as_text=True)
    return wait


def test_guessing_one_staff_password_is_stopped_but_not_the_staff_member(
        app: Flask, session: Session, world: World, clock: Clock) -> None:
    attacker = Guesser(app, "203.0.113.7")
    for guess in range(PAIR_LIMIT):
        assert attacker.sign_in(world.staff_email, f"guess {guess}").status_code == 401
    # The refusals were counted although each answer rolled its transaction back.
    assert session.scalar(select(func.count()).select_from(StaffSignInFailure)) == PAIR_LIMIT
    session.rollback()
    # Now even the right password is refused from there, before it is checked.
    assert_limited(attacker.sign_in(world.staff_email, PASSWORD))
    assert attacker.browser.get("/admin/").status_code == 302
    # The staff member, from their own address, is not locked out.
    own = Guesser(app, "198.51.100.20")
    assert own.sign_in(world.staff_email, PASSWORD).status_code == 302
    assert own.browser.get("/admin/").status_code == 200
    # Once the window has passed, the address may try again.
    clock.now += WINDOW
    assert attacker.sign_in(world.staff_email, PASSWORD).status_code == 302


def test_an_unknown_account_is_limited_like_a_known_one(app: Flask, world: World,
                                                        clock: Clock) -> None:
    attacker = Guesser(app, "203.0.113.8")
    for guess in range(PAIR_LIMIT):
        assert attacker.sign_in("nobody@guild.test", f"guess {guess}").status_code == 401
    assert_limited(attacker.sign_in("nobody@guild.test", "guess"))


def test_trying_many_accounts_from_one_address_is_stopped(app: Flask, world: World,
                                                          clock: Clock) -> None:
    attacker = Guesser(app, "203.0.113.9")
    for n in range(ADDRESS_LIMIT):
        assert attacker.sign_in(f"user{n}@guild.test", "Winter2026!").status_code == 401
    assert_limited(attacker.sign_in(world.staff_email, PASSWORD))
    assert Guesser(app, "198.51.100.21").sign_in(world.staff_email,
                                                 PASSWORD).status_code == 302


def test_a_successful_sign_in_forgets_its_own_refusals(app: Flask, world: World,
                                                       clock: Clock) -> None:
    staff = Guesser(app, "198.51.100.22")
    for guess in range(PAIR_LIMIT - 1):
        assert staff.sign_in(world.staff_email, f"typo {guess}").status_code == 401
    assert staff.sign_in(world.staff_email, PASSWORD).status_code == 302
    # Typos after a good sign-in start from nothing again (a new browser, the same address).
    staff = Guesser(app, "198.51.100.22")
    for guess in range(PAIR_LIMIT - 1):
        assert staff.sign_in(world.staff_email, f"typo {guess}").status_code == 401
    assert staff.sign_in(world.staff_email, PASSWORD).status_code == 302


# --- signing out ends the session ----------------------------------------------------------------


def copy_of(browser: FlaskClient, app: Flask) -> FlaskClient:
    """Another browser holding the same session cookie, as a thief who copied it would."""
    cookie = browser.get_cookie(COOKIE)
    assert cookie is not None
    thief = app.test_client()
    thief.set_cookie(COOKIE, cookie.value)
    return thief


def test_a_cookie_copied_before_sign_out_is_refused_after_it(app: Flask, world: World) -> None:
    from tests.web.admin.test_pages import signed_in_as, submit

    staff = signed_in_as(app.test_client(), world.staff_email)
    thief = copy_of(staff, app)
    assert thief.get("/admin/").status_code == 200  # the copy works while the session lives
    assert submit(staff, "/admin/", {}, action="/admin/logout").status_code == 302
    assert staff.get("/admin/").status_code == 302
    assert thief.get("/admin/").status_code == 302
    assert thief.get("/admin/issuers/guild/tokens").status_code == 302


def test_sign_out_everywhere_ends_every_session_of_that_staff_member(
        app: Flask, world: World) -> None:
    from tests.web.admin.test_pages import signed_in_as, submit

    laptop = signed_in_as(app.test_client(), world.staff_email)
    phone = signed_in_as(app.test_client(), world.staff_email)
    colleague = signed_in_as(app.test_client(), world.other_staff_email)
    thief = copy_of(phone, app)
    done = submit(laptop, "/admin/", {}, action="/admin/sessions/end-all")
    assert done.status_code == 302
    for browser in (laptop, phone, thief):
        assert browser.get("/admin/").status_code == 302
    assert colleague.get("/admin/").status_code == 200  # someone else's sessions stay
    assert signed_in_as(app.test_client(), world.staff_email).get("/admin/").status_code == 200


def test_a_new_password_ends_the_sessions_made_with_the_old_one(
        app: Flask, session: Session, ctx: ServiceContext, world: World) -> None:
    from issuer.services.users import set_password
    from tests.web.admin.test_pages import sign_in, signed_in_as

    staff = signed_in_as(app.test_client(), world.staff_email)
    user = session.scalars(select(User).where(User.email == world.staff_email)).one()
    set_password(session, ctx, user, PASSWORD + " again")
    session.commit()
    assert staff.get("/admin/").status_code == 302
    assert sign_in(app.test_client(), world.staff_email).status_code == 401
    assert sign_in(app.test_client(), world.staff_email,
                   PASSWORD + " again").status_code == 302


def test_a_cookie_naming_only_a_user_signs_no_one_in(app: Flask, world: World,
                                                     session: Session) -> None:
    """Whoever learns the secret key can sign any cookie; without a live session it is no
    sign-in."""
    user_id = session.scalars(select(User.id).where(User.email == world.staff_email)).one()
    session.rollback()
    forged = app.test_client()
    with forged.session_transaction() as cookie_session:
        cookie_session["user_id"] = user_id
        cookie_session["staff_session"] = "made-up"
    assert forged.get("/admin/").status_code == 302
