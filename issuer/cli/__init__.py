"""The ``issuer`` command: keys, signing and verification from the terminal.

Exit codes are a contract other tools rely on: 0 success (a valid credential), 1 an invalid
credential or a refused request, 2 input that cannot be read (missing file, bad usage).
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from issuer import config
from issuer.cli.local_status import combined, local_status_checker
from issuer.core.baking import image_format
from issuer.core.dids import did_key_from_public_key, did_key_verification_method_id
from issuer.core.errors import IssuerError
from issuer.core.keys import PrivateKey, file_is_private, load_private_key, save_private_key
from issuer.core.proofs.data_integrity import SuiteContext, parse_datetime, sign_document
from issuer.core.proofs.registry import SIGNING_SUITES
from issuer.core.proofs.vc_jwt import sign_ob_vc_jwt
from issuer.core.resolve import Resolver
from issuer.core.status_list import BitstringStatusChecker
from issuer.core.verify import CHECK_TITLES, Outcome, VerificationReport, Verifier

EXIT_OK = 0
EXIT_INVALID = 1
EXIT_UNREADABLE = 2

PASSPHRASE_ENV = config.PASSPHRASE_ENV


class Unreadable(click.ClickException):
    exit_code = EXIT_UNREADABLE


class Refused(click.ClickException):
    exit_code = EXIT_INVALID


def _passphrase(env_name: str | None) -> bytes | None:
    name = env_name or PASSPHRASE_ENV
    value = os.environ.get(name)
    return value.encode("utf-8") if value else None


def read_input_bytes(path: str) -> bytes:
    """The bytes of ``path``, or of standard input for ``-``; exit 2 when unreadable."""
    if path == "-":
        return sys.stdin.buffer.read()
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise Unreadable(f"cannot read {path}: {exc.strerror or exc}") from None


def _decode_text(data: bytes, path: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise Unreadable(f"{path} is not UTF-8 text") from None


def _read_input(path: str) -> str:
    return _decode_text(read_input_bytes(path), path)


def _read_credential(path: str) -> bytes:
    """Raw bytes for the verifier, which finds credentials baked into PNG and SVG images.

    Anything that is not an image must still be UTF-8 text, as before.
    """
    data = read_input_bytes(path)
    if image_format(data) is None:
        _decode_text(data, path)
    return data


def _load_key(path: str, passphrase_env: str | None) -> PrivateKey:
    try:
        key = load_private_key(Path(path), _passphrase(passphrase_env))
    except IssuerError as exc:
        raise Unreadable(exc.message) from None
    if not file_is_private(Path(path)):
        click.echo(
            f"warning: {path} can be read by other users; run: chmod 600 {path}", err=True
        )
    return key


def database_problem(exc: Exception) -> str:
    """What an operator needs from a database error: its first line, not a traceback.

    The driver's message names the host, port and database, never the password.
    """
    cause = getattr(exc, "orig", None) or exc
    first = (str(cause).strip().splitlines() or [type(cause).__name__])[0][:300]
    return (f"the database cannot be used: {first}. Is it reachable, and set up? "
            "Run: issuer init")


class _Commands(click.Group):
    """The ``issuer`` group: what no command handled itself still ends in one line and an
    exit code, never a traceback. A database that cannot be used (a missing table, a server
    that is down), a setting that is wrong, a folder that cannot be made or bundled data that
    cannot be read is exit 2; any other refusal exit 1."""

    def invoke(self, ctx: click.Context) -> Any:
        from sqlalchemy.exc import SQLAlchemyError

        from issuer.core.errors import ContextError, SchemaError

        try:
            return super().invoke(ctx)
        except SQLAlchemyError as exc:
            raise Unreadable(database_problem(exc)) from None
        except config.ConfigError as exc:
            raise Unreadable(exc.message) from None
        except OSError as exc:
            where = f"{exc.filename}: " if exc.filename else ""
            raise Unreadable(f"cannot use {where}{exc.strerror or exc}") from None
        except (ContextError, SchemaError) as exc:
            raise Unreadable(exc.message) from None
        except IssuerError as exc:
            raise Refused(exc.message) from None


@click.group(cls=_Commands)
@click.version_option(package_name="issuer")
def main() -> None:
    """Open Badges 3.0 issuer: sign and verify credentials, run the service."""


@main.group("keys")
def keys_group() -> None:
    """Create and inspect signing keys."""


@keys_group.command("generate")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False),
              help="Where to write the private key (PEM, mode 0600).")
@click.option("--type", "key_type", type=click.Choice(["ed25519", "p256"]), default="ed25519",
              show_default=True, help="Ed25519 for Data Integrity proofs, P-256 for ES256 JWTs.")
@click.option("--passphrase-env", default=None, metavar="VAR",
              help=f"Encrypt the key with the passphrase in this variable "
                   f"(default: {PASSPHRASE_ENV}, if set).")
@click.option("--force", is_flag=True, help="Overwrite an existing key file.")
def keys_generate(out: str, key_type: str, passphrase_env: str | None, force: bool) -> None:
    """Write a new private key and print its did:key."""
    key = PrivateKey.generate("Ed25519" if key_type == "ed25519" else "P-256")
    try:
        save_private_key(Path(out), key, _passphrase(passphrase_env), overwrite=force)
    except IssuerError as exc:
        raise Refused(exc.message) from None
    except OSError as exc:
        raise Unreadable(f"cannot write {out}: {exc.strerror or exc}") from None
    click.echo(did_key_from_public_key(key.public_key))


@main.command("sign")
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
    text = _read_input(infile)
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
        raise Refused(exc.message) from None
    click.echo(json.dumps(signed, indent=2, ensure_ascii=False))


def _trusted_documents(paths: tuple[str, ...]) -> list[dict[str, Any]]:
    docs = []
    for path in paths:
        text = _read_input(path)
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
            doc = json.loads(_read_input(path))
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


@main.command("verify")
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


def _register_service_commands() -> None:
    from issuer.cli.bulk import register as register_bulk
    from issuer.cli.keys import register as register_keys
    from issuer.cli.lifecycle import register as register_lifecycle
    from issuer.cli.service import register
    from issuer.cli.transcript import register as register_transcript

    register(main)
    register_bulk(main)
    register_lifecycle(main)
    register_keys(keys_group)
    register_transcript(main)


_register_service_commands()


if __name__ == "__main__":  # pragma: no cover
    main()
