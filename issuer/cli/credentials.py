"""``issuer sign`` and ``issuer verify``: credentials from and for the terminal.

Neither needs the service: ``sign`` takes a key file, ``verify`` trusts the documents it is
given. ``verify`` also reads this installation's own status lists when a service is set up
where it runs (:mod:`issuer.cli.local_status`). Exit codes follow :mod:`issuer.cli.errors`.
"""

from __future__ import annotations

import json
import sys
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from issuer import config
from issuer.cli.common import decode_text, passphrase, read_input_bytes, read_text
from issuer.cli.errors import EXIT_INVALID, EXIT_OK, Refused, Unreadable
from issuer.cli.local_status import combined, local_status_checker
from issuer.core.baking import image_format
from issuer.core.datetimes import parse_datetime
from issuer.core.dids import did_key_from_public_key, did_key_verification_method_id
from issuer.core.errors import IssuerError
from issuer.core.keys import PrivateKey, file_is_private, load_private_key
from issuer.core.proofs.data_integrity import SuiteContext, sign_document
from issuer.core.proofs.registry import SIGNING_SUITES
from issuer.core.proofs.vc_jwt import sign_ob_vc_jwt
from issuer.core.resolve import Resolver
from issuer.core.status_list import BitstringStatusChecker
from issuer.core.verify import CHECK_TITLES, Outcome, VerificationReport, Verifier


def _read_credential(path: str) -> bytes:
    """Raw bytes for the verifier, which finds credentials baked into PNG and SVG images.

    Anything that is not an image must still be UTF-8 text, as before.
    """
    data = read_input_bytes(path)
    if image_format(data) is None:
        decode_text(data, path)
    return data


def _load_key(path: str, passphrase_env: str | None) -> PrivateKey:
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
@click.option("--suite", type=click.Choice(["eddsa-rdfc-2022", "eddsa-jcs-2022", "vc-jwt"]),
              default="eddsa-rdfc-2022", show_default=True)
@click.option("--created", default=None, metavar="ISO8601",
              help="Proof creation time (default: now).")
@click.option("--verification-method", "method", default=None, metavar="URL",
              help="Key id to name in the proof (default: the key's did:key method).")
@click.option("--passphrase-env", default=None, metavar="VAR")
def sign(infile: str, key_path: str, suite: str, created: str | None, method: str | None,
         passphrase_env: str | None) -> None:
    """Sign a credential and print it (JSON, or a compact JWT with --suite vc-jwt)."""
    text = read_text(infile)
    try:
        document = json.loads(text)
    except ValueError as exc:
        raise Refused(f"{infile} is not valid JSON: {exc}") from None
    if not isinstance(document, dict):
        raise Refused(f"{infile} must hold one JSON object")
    key = _load_key(key_path, passphrase_env)
    vm = method or did_key_verification_method_id(did_key_from_public_key(key.public_key))
    try:
        if suite == "vc-jwt":
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


def _pinned_status(verifier: Verifier, paths: tuple[str, ...]
                   ) -> tuple[BitstringStatusChecker, frozenset[str]]:
    """Status checks against local copies of status lists (W3C Bitstring Status List §3.2).

    Each copy is used for the URL in its ``id`` and must verify like a credential, with the
    verifier's trusted keys (the copy's own status is not looked up); one that does not
    verify, or a list not given, makes the status "could not check", never "not revoked".
    """
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
    checker = BitstringStatusChecker(lists.get, lambda doc: verifier.verify(doc).valid)
    return checker, frozenset(lists)


def build_verifier(trusted: list[dict[str, Any]]) -> Verifier:
    """A verifier with the bundled contexts and schemas that resolves ``trusted`` documents."""
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


_MARKS = {
    Outcome.PASSED: "PASS",
    Outcome.FAILED: "FAIL",
    Outcome.WARNING: "WARN",
    Outcome.SKIPPED: "SKIP",
}


def render_report(report: VerificationReport) -> str:
    """The report as plain text: one line per check, then the verdict."""
    lines = []
    for check in report.checks:
        title = CHECK_TITLES.get(check.id, check.id)
        lines.append(f"{_MARKS[check.outcome]}  {title} [{check.id}]: {check.message}")
        lines.extend(f"        - {d}" for d in check.details)
    verdict = "VALID" if report.valid else "INVALID"
    lines.append(f"{verdict}: " + (
        "every check passed" if report.valid and not report.warnings
        else "valid, with warnings" if report.valid
        else f"failed: {', '.join(c.id for c in report.failed)}"
    ))
    return "\n".join(lines)


@click.command("verify")
@click.argument("infile", metavar="PATH|-")
@click.option("--trust", "trust", multiple=True, type=click.Path(dir_okay=False),
              help="A controller document (e.g. a DID document) to treat as the resolved "
                   "document for its id. Repeatable.")
@click.option("--status-list", "status_lists", multiple=True,
              type=click.Path(dir_okay=False),
              help="A copy of a status list credential (BitstringStatusListCredential) to "
                   "check revocation and suspension against; it must itself verify, with "
                   "the same trusted keys. Repeatable. The lists of the service configured "
                   "here (ISSUER_DATABASE_URL, ISSUER_BASE_URL) are read from its database; "
                   "any other list not given is reported as not checked.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option("--at", "at", default=None, metavar="ISO8601",
              help="Check validity dates as of this moment instead of now.")
def verify(infile: str, trust: tuple[str, ...], status_lists: tuple[str, ...], as_json: bool,
           at: str | None) -> None:
    """Verify a credential: JSON with an embedded proof, a compact JWT, or a baked PNG/SVG."""
    data = _read_credential(infile)
    verifier = build_verifier(_trusted_documents(trust))
    if at is not None:
        try:
            moment = parse_datetime(at)
        except IssuerError as exc:
            raise Unreadable(f"--at: {exc.message}") from None
        verifier = replace(verifier, clock=lambda: moment)
    pinned, pinned_ids = (_pinned_status(verifier, status_lists) if status_lists
                          else (None, frozenset[str]()))
    with local_status_checker() as local:
        checker = combined(local, pinned, pinned_ids)
        if checker is not None:
            verifier = replace(verifier, status_checker=checker)
        report = verifier.verify(data)
    if as_json:
        click.echo(json.dumps(report.to_json(), indent=2, ensure_ascii=False))
    else:
        click.echo(render_report(report))
    sys.exit(EXIT_OK if report.valid else EXIT_INVALID)
