"""``issuer bake``: a signed credential baked into its badge image (OB 3.0 §5.3).

Exit codes follow :mod:`issuer.cli.errors`: 0 done, 1 refused (not a signed credential, output
exists), 2 unreadable input (missing file, not UTF-8, not a PNG or SVG image).
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import click

from issuer.cli.common import read_input_bytes, service_runtime, service_settings
from issuer.cli.errors import Refused, Unreadable
from issuer.core import baking
from issuer.core.errors import IssuerError
from issuer.core.json_input import parse_json
from issuer.core.nodes import types_of
from issuer.core.proofs.vc_jwt import credential_of, decode_compact, looks_like_jws


def credential_payload(text: str, name: str) -> tuple[str, bool]:
    """The text to bake and whether it is a compact JWS; ClickException when it cannot be.

    Only the shape is checked (a signed verifiable credential), not the signature: baking
    does not change what was signed, and ``issuer verify`` reads baked images.
    """
    text = text.strip()
    if looks_like_jws(text):
        try:
            credential = credential_of(decode_compact(text))
        except IssuerError as exc:
            raise Refused(f"{name} is not a credential JWT: {exc.message}") from None
        if "VerifiableCredential" not in types_of(credential):
            raise Refused(f"{name} is a JWT but not a verifiable credential")
        return text, True
    if not text.startswith("{"):
        raise Refused(f"{name} is neither a signed JSON credential nor a compact JWT")
    try:
        doc = parse_json(text)
    except IssuerError as exc:
        raise Refused(f"{name} is not a credential: {exc.message}") from None
    if "VerifiableCredential" not in types_of(doc):
        raise Refused(f"{name} is not a verifiable credential (its type lacks "
                      "VerifiableCredential)")
    if not doc.get("proof"):
        raise Refused(f"{name} is not signed: it has no proof (sign it with 'issuer sign')")
    return text, False


def _write(out: str, data: bytes, force: bool) -> None:
    if os.path.lexists(out) and not force:
        raise Refused(f"{out} exists; use --force to overwrite it")
    try:
        # "x" closes the gap between the check above and the write.
        with Path(out).open("wb" if force else "xb") as handle:
            handle.write(data)
    except FileExistsError:
        raise Refused(f"{out} exists; use --force to overwrite it") from None
    except OSError as exc:
        raise Unreadable(f"cannot write {out}: {exc.strerror or exc}") from None


@click.command("bake")
@click.argument("source", metavar="CREDENTIAL_ID|FILE")
@click.option("--image", "image_path", default=None, type=click.Path(dir_okay=False),
              help="The badge image: a PNG or an SVG file. Needed with FILE; for a "
                   "credential id, the image it was issued with (or a drawn default badge) "
                   "is used when this is left out.")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False),
              help="Where to write the baked image.")
@click.option("--format", "fmt", type=click.Choice(["png", "svg"]), default=None,
              help="The image format (default: read from the image; for a credential id "
                   "without --image, from the --out extension, else png).")
@click.option("--force", is_flag=True, help="Overwrite an existing output file.")
def bake(source: str, image_path: str | None, out: str, fmt: str | None, force: bool) -> None:
    """Bake a signed credential into a badge image (OB 3.0 §5.3).

    CREDENTIAL_ID names a credential issued by this service — its id, or its address
    {base}/credentials/<id> — read from the service's database (ISSUER_* settings). FILE
    holds a signed credential (JSON or JWT; '-' for standard input).
    """
    if _is_stored_reference(source):
        _bake_stored(source, image_path, out, fmt, force)
    else:
        _bake_file(source, image_path, out, fmt, force)


def _is_stored_reference(source: str) -> bool:
    """An id or an address, unless a file of that name exists (a file always wins)."""
    if source == "-" or os.path.lexists(source):
        return False
    if source.lower().startswith(("http://", "https://")):
        return True
    try:
        uuid.UUID(source)
    except ValueError:
        return False
    return True


def _image_file(image_path: str, fmt: str | None) -> tuple[bytes, str]:
    """The --image bytes and their format, checked against --format."""
    from issuer.services.baking import check_size

    image = read_input_bytes(image_path)
    try:
        check_size(image, image_path)
    except IssuerError as exc:
        raise Refused(exc.message) from None
    found = baking.image_format(image)
    if found is None:
        raise Unreadable(f"{image_path} is neither a PNG nor an SVG image")
    if fmt is not None and fmt != found:
        raise Refused(f"--format {fmt} was given, but {image_path} is a {found.upper()} image")
    return image, found


def _bake_file(infile: str, image_path: str | None, out: str, fmt: str | None,
               force: bool) -> None:
    from issuer.services.baking import bake_into

    if image_path is None:
        raise click.UsageError("--image is needed to bake a credential from a file (only a "
                               "credential id of this service can use its own badge image)")
    raw = read_input_bytes(infile)
    if baking.image_format(raw) is not None:
        raise Refused(f"{infile} is an image, not a credential; the credential comes first "
                      "and the image goes in --image")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise Unreadable(f"{infile} is not UTF-8 text") from None
    payload, is_jws = credential_payload(text, infile)
    image, found = _image_file(image_path, fmt)
    try:
        previous = baking.extract(image)
    except IssuerError as exc:
        raise Unreadable(f"{image_path}: {exc.message}") from None
    try:
        baked = bake_into(image, payload, found, what=image_path)
    except IssuerError as exc:
        raise Refused(exc.message) from None
    _write(out, baked, force)
    if previous is not None:
        click.echo(f"note: replaced the credential already baked into {image_path}", err=True)
    click.echo(f"baked {'a VC-JWT' if is_jws else 'a JSON credential'} into {out}")


def _bake_stored(reference: str, image_path: str | None, out: str, fmt: str | None,
                 force: bool) -> None:
    """Bake a credential from the database, as the credential page's download does."""
    from sqlalchemy.exc import SQLAlchemyError

    from issuer.services.awards import get_credential
    from issuer.services.baking import badge_source, bake_badge, bake_into, credential_reference
    from issuer.services.errors import NotFound
    from issuer.storage.db import is_initialised

    settings = service_settings()
    credential_id = credential_reference(reference, settings.base)
    if credential_id is None:
        raise Refused(f"{reference} is not a credential of this service ({settings.base}/"
                      "credentials/<id>) and there is no such file; to bake a credential "
                      "from elsewhere, save it to a file first")
    image, found = _image_file(image_path, fmt) if image_path is not None else (None, None)
    suffix = Path(out).suffix.lower().lstrip(".")
    chosen = fmt or found or (suffix if suffix in ("png", "svg") else "png")
    with service_runtime(settings) as rt:
        try:
            if not is_initialised(rt.engine):
                raise Unreadable("the service's database is not set up; run 'issuer init' "
                                 "first")
            # Reading only: the session is rolled back when it closes.
            with rt.sessions() as session:
                row = get_credential(session, credential_id)
                if image is not None:
                    baked = bake_into(image, row.document, chosen, what=str(image_path))
                    used = str(image_path)
                else:
                    source = badge_source(session, rt.services, row, chosen)
                    baked = bake_badge(source).data
                    used = ("the image it was issued with" if source.image is not None
                            else "a default badge image")
        except NotFound:
            raise Refused(f"there is no credential {credential_id} in this service's "
                          "database") from None
        except IssuerError as exc:
            raise Refused(exc.message) from None
        except SQLAlchemyError as exc:
            reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
            raise Unreadable(f"cannot read the service's database: {reason}") from None
    _write(out, baked, force)
    click.echo(f"baked credential {credential_id} into {out} ({chosen.upper()}, {used})")

