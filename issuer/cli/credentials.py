"""``issuer sign`` and ``issuer verify``: credentials from and for the terminal.

Neither needs the service: ``sign`` takes a key file, ``verify`` trusts the documents it is
given, did:key issuers, and (online, the default) did:web documents and status lists fetched
through the guarded fetcher (:mod:`issuer.net`). Where a service is set up it also trusts
this installation's own issuers and reads its status lists (:mod:`issuer.cli.local_status`).
Exit codes follow :mod:`issuer.cli.errors`.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click

from issuer.cli import verify_many
from issuer.cli.common import (
    collector_paused,
    decode_text,
    passphrase,
    read_input_bytes,
    read_text,
)
from issuer.cli.errors import EXIT_INVALID, EXIT_OK, Refused, Unreadable
from issuer.core.errors import IssuerError

if TYPE_CHECKING:
    from issuer.core.keys import PrivateKey
    from issuer.core.verify import VerificationReport, Verifier
    from issuer.net.client import Fetcher

# The settings (JSON-LD contexts, schemas), the verifier, the key code and the HTTP client
# are imported by the functions that use them, not here: ``issuer`` loads this module for
# each ``sign`` and ``verify``, and a script may run those once per file.


def _read_credential(path: str, *, offline: bool = True) -> bytes:
    """Raw bytes for the verifier, which finds credentials baked into PNG and SVG images.

    An https URL is fetched through the guarded fetcher (unless offline). Anything that is
    not an image must still be UTF-8 text, as before.
    """
    from issuer.core.baking import image_format

    data = _fetch_credential(path, offline) if _is_url(path) else read_input_bytes(path)
    if image_format(data) is None:
        decode_text(data, path)
    return data


def _is_url(path: str) -> bool:
    return path.lower().startswith(("https://", "http://"))


class _Withdrawn(Exception):
    """The address answered 410 Gone: for a hosted Open Badge, revoked (OB 2.0 "Hosted
    Verification"); the OB 2.0 verifier reports it."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.url = url


def _fetch_credential(url: str, offline: bool) -> bytes:
    from issuer.net.errors import Absent

    fetcher = None if offline else _fetcher()
    if fetcher is None:
        raise Unreadable(f"{url} is not fetched: this verification is offline")
    try:
        data = fetcher.fetch(url)
    except IssuerError as exc:
        raise Unreadable(exc.message) from None
    if isinstance(data, Absent):
        if data.gone:
            raise _Withdrawn(url)
        raise Unreadable(f"there is nothing at {url} (HTTP {data.status})")
    return data


def _load_key(path: str, passphrase_env: str | None) -> PrivateKey:
    from issuer.core.keys import file_is_private, load_private_key

    try:
        key = load_private_key(Path(path), passphrase(passphrase_env))
    except IssuerError as exc:
        raise Unreadable(exc.message) from None
    if not file_is_private(Path(path)):
        click.echo(
            f"warning: {path} can be read by other users; run: chmod 600 {path}", err=True
        )
    return key


@click.command("sign")
@click.argument("infile", metavar="IN.json")
@click.option("--key", "key_path", required=True, type=click.Path(dir_okay=False),
              help="Private key file (PEM).")
@click.option("--suite", type=click.Choice(["eddsa-rdfc-2022", "eddsa-jcs-2022",
                                           "ecdsa-rdfc-2019", "ecdsa-jcs-2019", "vc-jwt"]),
              default=None,
              help="eddsa-* with an Ed25519 key, ecdsa-* with a P-256 or P-384 key "
                   "(issuer keys generate --type p256|p384); vc-jwt with any. Default: "
                   "eddsa-rdfc-2022 for an Ed25519 key, ecdsa-rdfc-2019 for the others.")
@click.option("--created", default=None, metavar="ISO8601",
              help="Proof creation time (default: now).")
@click.option("--verification-method", "method", default=None, metavar="URL",
              help="Key id to name in the proof (default: the key's did:key method).")
@click.option("--passphrase-env", default=None, metavar="VAR")
def sign(infile: str, key_path: str, suite: str | None, created: str | None,
         method: str | None, passphrase_env: str | None) -> None:
    """Sign a credential and print it (JSON, or a compact JWT with --suite vc-jwt).

    The Data Integrity suites are W3C vc-di-eddsa §3 and vc-di-ecdsa §3.3, §3.4 (ECDSA
    hashes with SHA-256 for a P-256 key, SHA-384 for a P-384 key).
    """
    with collector_paused():
        from issuer import config
        from issuer.core.datetimes import parse_datetime
        from issuer.core.dids import did_key_from_public_key, did_key_verification_method_id
        from issuer.core.proofs.data_integrity import SuiteContext, sign_document
        from issuer.core.proofs.registry import SIGNING_SUITES

    text = read_text(infile)
    try:
        document = json.loads(text)
    except ValueError as exc:
        raise Refused(f"{infile} is not valid JSON: {exc}") from None
    if not isinstance(document, dict):
        raise Refused(f"{infile} must hold one JSON object")
    key = _load_key(key_path, passphrase_env)
    if suite is None:
        suite = "eddsa-rdfc-2022" if key.public_key.key_type == "Ed25519" else "ecdsa-rdfc-2019"
    vm = method or did_key_verification_method_id(did_key_from_public_key(key.public_key))
    try:
        if suite == "vc-jwt":
            # Loaded only here: the JWT suite's module is not small, and rarely asked for.
            from issuer.core.proofs.vc_jwt import sign_ob_vc_jwt

            click.echo(sign_ob_vc_jwt(document, key, kid=vm))
            return
        when: datetime | str
        when = parse_datetime(created) if created else datetime.now().astimezone()
        signed = sign_document(
            document, SIGNING_SUITES[suite], key,
            verification_method=vm,
            ctx=SuiteContext(loader=config.context_loader(), budget=config.work_budget()),
            created=created if created else when,
        )
    except IssuerError as exc:
        # Whatever the core refuses to sign is a refusal here, even a context it lacks.
        raise Refused(exc.message) from None
    click.echo(json.dumps(signed, indent=2, ensure_ascii=False))


def _trusted_documents(paths: tuple[str, ...]) -> list[dict[str, Any]]:
    docs = []
    for path in paths:
        text = read_text(path)
        try:
            doc = json.loads(text)
        except ValueError as exc:
            raise Unreadable(f"{path} is not valid JSON: {exc}") from None
        if not isinstance(doc, dict):
            raise Unreadable(f"{path} must hold one controller document (a JSON object)")
        docs.append(doc)
    return docs


def _pinned_lists(paths: tuple[str, ...]) -> dict[str, dict[str, Any]]:
    """Local copies of status list credentials, by the URL in their ``id``."""
    lists: dict[str, dict[str, Any]] = {}
    for path in paths:
        try:
            doc = json.loads(read_text(path))
        except ValueError as exc:
            raise Unreadable(f"{path} is not valid JSON: {exc}") from None
        if not isinstance(doc, dict):
            raise Unreadable(f"{path} must hold one status list credential (a JSON object)")
        list_id = doc.get("id")
        if not isinstance(list_id, str) or not list_id:
            raise Unreadable(f"{path} is not a status list credential: it has no id")
        if list_id in lists:
            raise Unreadable(f"{path}: a status list for {list_id} was already given")
        lists[list_id] = doc
    return lists


def with_pinned_status(verifier: Verifier, lists: Mapping[str, Mapping[str, Any]]) -> Verifier:
    """Status checks against local copies of status lists first (W3C Bitstring Status List
    §3.2), then as ``verifier`` checks them.

    Each copy is used for the URL in its ``id`` and must verify like a credential, with the
    verifier's trusted keys (the copy's own status is not looked up); one that does not
    verify makes the status "could not check", never "not revoked".
    """
    if not lists:
        return verifier
    from issuer.core.status_list import BitstringStatusChecker, routed_status
    from issuer.net.verifying import OFFLINE

    unchecked = replace(verifier, status_checker=None)
    pinned = BitstringStatusChecker(lists.get, lambda doc: unchecked.verify(doc).valid)
    otherwise = verifier.status_checker or OFFLINE
    return replace(verifier, status_checker=routed_status([(lists.__contains__, pinned)],
                                                          otherwise))


def build_verifier(trusted: list[dict[str, Any]]) -> Verifier:
    """A verifier with the bundled contexts and schemas that resolves ``trusted`` documents."""
    from issuer import config
    from issuer.core.resolve import Resolver
    from issuer.core.verify import Verifier

    try:
        resolver = Resolver.with_trusted(trusted)
    except IssuerError as exc:
        raise Unreadable(f"unusable trusted document: {exc.message}") from None
    return Verifier(
        loader=config.context_loader(),
        schemas=config.schema_registry(),
        resolver=resolver,
        budget=config.work_budget(),
    )


def standalone_verifier(trusted: list[dict[str, Any]], *, offline: bool) -> Verifier:
    """The verifier away from any service: ``trusted`` documents, did:key, and unless
    offline did:web documents and status lists fetched through the guarded fetcher."""
    from issuer.core.status_list import routed_status
    from issuer.net.verifying import OFFLINE, online

    verifier = build_verifier(trusted)
    fetcher = None if offline else _fetcher()
    if fetcher is None:
        return replace(verifier, status_checker=routed_status([], OFFLINE))
    return online(verifier, fetcher)


def _fetcher() -> Fetcher | None:
    """The guarded fetcher of the settings, or None where they say offline; its module (and
    the TLS setup it loads) only when something may be fetched."""
    from issuer import config
    from issuer.net.fetcher import fetcher_for

    return fetcher_for(config.core_settings())


def require_status(report: VerificationReport) -> VerificationReport:
    """``--require-status``: a status that could not be checked fails the verification."""
    from issuer.core.verify import Outcome

    status = report.check("status")
    if status is None or status.outcome != Outcome.WARNING:
        return report
    failed = replace(status, outcome=Outcome.FAILED,
                     message=f"{status.message} (a status that could not be checked is not "
                             "accepted: --require-status)")
    return replace(report, checks=[failed if c is status else c for c in report.checks])


#: Each check's mark, by its outcome (the values of :class:`issuer.core.verify.Outcome`).
_MARKS = {
    "passed": "PASS",
    "failed": "FAIL",
    "warning": "WARN",
    "skipped": "SKIP",
}


def ob2_report(payload: dict[str, Any] | str, *, offline: bool, moment: datetime | None,
               recipient: str | None) -> VerificationReport:
    """An Open Badges 2.0 assertion verified with documents fetched through the guarded
    fetcher (its BadgeClass, issuer, key and revocation list live on the issuer's site)."""
    from issuer import config
    from issuer.core.ob2 import verify_ob2
    from issuer.net.verifying import ob2_fetch

    fetcher = None if offline else _fetcher()
    return verify_ob2(payload, ob2_fetch(fetcher), now=moment, recipient=recipient,
                      loader=config.context_loader())


def render_report(report: VerificationReport) -> str:
    """The report as plain text: one line per check, then the verdict."""
    from issuer.core.verify import CHECK_TITLES

    lines = []
    for check in report.checks:
        title = CHECK_TITLES.get(check.id) or _ob2_title(check.id)
        lines.append(f"{_MARKS[check.outcome]}  {title} [{check.id}]: {check.message}")
        lines.extend(f"        - {d}" for d in check.details)
    verdict = "VALID" if report.valid else "INVALID"
    lines.append(f"{verdict}: " + (
        "every check passed" if report.valid and not report.warnings
        else "valid, with warnings" if report.valid
        else f"failed: {', '.join(c.id for c in report.failed)}"
    ))
    return "\n".join(lines)


def _ob2_title(check_id: str) -> str:
    from issuer.core.ob2 import OB2_CHECK_TITLES

    return OB2_CHECK_TITLES.get(check_id, check_id)


@click.command("verify")
@click.argument("paths", metavar="PATH|URL|-...", nargs=-1, required=True)
@click.option("--trust", "trust", multiple=True, type=click.Path(dir_okay=False),
              help="A controller document (e.g. a DID document) to treat as the resolved "
                   "document for its id. Repeatable.")
@click.option("--status-list", "status_lists", multiple=True,
              type=click.Path(dir_okay=False),
              help="A copy of a status list credential (BitstringStatusListCredential) to "
                   "check revocation and suspension against; it must itself verify, with "
                   "the same trusted keys. Repeatable. The lists of the service configured "
                   "here (ISSUER_DATABASE_URL, ISSUER_BASE_URL) are read from its database; "
                   "other lists are fetched unless --offline.")
@click.option("--offline", is_flag=True,
              help="Fetch nothing (also ISSUER_VERIFY_OFFLINE): did:web documents and status "
                   "lists of other sites must be given with --trust and --status-list.")
@click.option("--require-status", "require_status_", is_flag=True,
              help="A revocation status that could not be checked makes the credential not "
                   "valid (exit 1) instead of a warning.")
@click.option("--json", "as_json", is_flag=True,
              help="Print the report as JSON (for many files, an array of reports, each with "
                   "its path).")
@click.option("--at", "at", default=None, metavar="ISO8601",
              help="Check validity dates as of this moment instead of now.")
@click.option("--recipient", default=None, metavar="EMAIL",
              help="Open Badges 2.0: check that the assertion was awarded to this email.")
def verify(paths: tuple[str, ...], trust: tuple[str, ...], status_lists: tuple[str, ...],
           offline: bool, require_status_: bool, as_json: bool, at: str | None,
           recipient: str | None) -> None:
    """Verify a credential: JSON with an embedded proof, a compact JWT, or a baked PNG/SVG,
    from a file, standard input or an https URL.

    Online by default: a did:web issuer's DID document and a status list on another site
    are fetched over HTTPS, with the guards of ISSUER_VERIFY_* settings. Where the service
    runs, its own issuers and status lists are trusted and read from its database.
    Open Badges 2.0 assertions (hosted, signed, or baked) are verified the OB 2.0 way.

    Given many paths, or a folder (its .json, .jwt, .png and .svg files), each file is
    verified in turn and gets one line, VALID or INVALID with its first failed check, then
    a summary: exit 1 when any is invalid, 2 when any cannot be read.
    """
    with collector_paused():
        from issuer import config
        from issuer.cli.local_status import installation_verifier
        from issuer.core.ob2 import ob2_payload
        from issuer.core.verify import Verifier  # noqa: F401 - loaded with the rest
        from issuer.net.verifying import OFFLINE  # noqa: F401 - every verifier names it

    offline = offline or config.core_settings().verify_offline
    if len(paths) > 1 or verify_many.is_folder(paths[0]):
        _verify_files(verify_many.expand(paths), trust=trust, status_lists=status_lists,
                      offline=offline, require_status_=require_status_, as_json=as_json,
                      at=at, recipient=recipient)
    infile = paths[0]
    try:
        data = _read_credential(infile, offline=offline)
    except _Withdrawn as gone:
        _finish(ob2_report(gone.url, offline=offline, moment=_moment(at), recipient=recipient),
                require_status_=require_status_, as_json=as_json)
    trusted = _trusted_documents(trust)
    build_verifier(trusted)  # refuses an unusable --trust document before anything else
    moment = _moment(at)
    lists = _pinned_lists(status_lists)
    payload = ob2_payload(data)
    if payload is not None:
        report = ob2_report(payload, offline=offline, moment=moment, recipient=recipient)
        _finish(report, require_status_=require_status_, as_json=as_json)
    with installation_verifier(trusted, offline=offline) as hosted:
        verifier = hosted or standalone_verifier(trusted, offline=offline)
        if moment is not None:
            verifier = replace(verifier, clock=lambda: moment)
        report = with_pinned_status(verifier, lists).verify(data)
    _finish(report, require_status_=require_status_, as_json=as_json)


def _moment(at: str | None) -> datetime | None:
    """``--at``: the moment validity dates are checked at (default now)."""
    if at is None:
        return None
    from issuer.core.datetimes import parse_datetime

    try:
        return parse_datetime(at)
    except IssuerError as exc:
        raise Unreadable(f"--at: {exc.message}") from None


def _verify_files(paths: list[str], *, trust: tuple[str, ...], status_lists: tuple[str, ...],
                  offline: bool, require_status_: bool, as_json: bool, at: str | None,
                  recipient: str | None) -> NoReturn:
    """Verify each of ``paths`` with one verifier, print a line each and exit with the
    worst verdict (:mod:`issuer.cli.verify_many`)."""
    from issuer.cli.local_status import installation_verifier
    from issuer.core.ob2 import ob2_payload

    trusted = _trusted_documents(trust)
    build_verifier(trusted)
    moment = _moment(at)
    lists = _pinned_lists(status_lists)
    with installation_verifier(trusted, offline=offline) as hosted:
        verifier = hosted or standalone_verifier(trusted, offline=offline)
        if moment is not None:
            verifier = replace(verifier, clock=lambda: moment)
        verifier = with_pinned_status(verifier, lists)

        def report_for(path: str) -> VerificationReport:
            try:
                data = _read_credential(path, offline=offline)
            except _Withdrawn as gone:
                report = ob2_report(gone.url, offline=offline, moment=moment,
                                    recipient=recipient)
                return require_status(report) if require_status_ else report
            payload = ob2_payload(data)
            report = (verifier.verify(data) if payload is None else
                      ob2_report(payload, offline=offline, moment=moment, recipient=recipient))
            return require_status(report) if require_status_ else report

        results = verify_many.verify_each(paths, report_for)
    verify_many.print_results(results, as_json=as_json)
    sys.exit(verify_many.exit_code(results))


def _finish(report: VerificationReport, *, require_status_: bool, as_json: bool) -> NoReturn:
    """Print the report and exit with its verdict."""
    if require_status_:
        report = require_status(report)
    if as_json:
        click.echo(json.dumps(report.to_json(), indent=2, ensure_ascii=False))
    else:
        click.echo(render_report(report))
    sys.exit(EXIT_OK if report.valid else EXIT_INVALID)
