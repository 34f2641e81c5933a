# ruff: noqa: F811
"""`issuer bake CREDENTIAL_ID --format png|svg --out PATH` against the service's database.

The installed command runs in a subprocess with the ``ISSUER_*`` settings of the test app,
so it reads the same database (SQLite, or PostgreSQL with ISSUER_TEST_DATABASE_URL) the
credentials were issued into, and its output is checked with ``issuer verify``.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from PIL import Image as PILImage
from sqlalchemy.orm import Session

from issuer.config import Settings
from issuer.core.baking import extract
from issuer.services.achievements import get_achievement, store_image
from issuer.services.awards import AwardRequest, Recipient, award
from issuer.services.baking import BAKE_LIMIT
from issuer.services.context import ServiceContext
from issuer.services.issuers import get_issuer
from issuer.storage.models import Credential

# The web fixtures (the app, its database, the two issuers of `world`), imported by name so
# that pytest hands them to the tests below as arguments.
from tests.conftest import (  # noqa: F401
    BASE_URL,
    World,
    app,
    client,
    ctx,
    database_url,
    keys_dir,
    session,
    settings,
    world,
)

pytestmark = pytest.mark.db

ISSUER_CMD = str(Path(sys.executable).with_name("issuer"))


def red_png(size: int = 32) -> bytes:
    buffer = io.BytesIO()
    PILImage.new("RGBA", (size, size), (200, 30, 30, 255)).save(buffer, "PNG")
    return buffer.getvalue()


def issue(session: Session, ctx: ServiceContext, world: World,
          image: bytes | None = None) -> Credential:
    issuer = get_issuer(session, world.issuer_slug)
    achievement = get_achievement(session, issuer, world.achievement_slug)
    if image is not None:
        achievement.image_id = store_image(session, ctx, issuer, image).id
        session.flush()
        session.refresh(achievement)
    row = award(session, ctx, issuer, achievement,
                AwardRequest(recipient=Recipient.parse("ada@example.org", "Ada Learner")))
    session.commit()
    return row


@pytest.fixture()
def env(settings: Settings, tmp_path: Path) -> dict[str, str]:
    values = {k: v for k, v in os.environ.items() if not k.startswith("ISSUER_")}
    values.update({
        "ISSUER_DATABASE_URL": settings.database_url,
        "ISSUER_BASE_URL": BASE_URL,
        "ISSUER_KEYS_DIR": str(settings.keys_dir),
        "ISSUER_SECRET_KEY": "cli-test-secret",
        "ISSUER_INSTANCE_DIR": str(tmp_path / "instance"),
    })
    return values


def run(env: dict[str, str], *args: str, cwd: Path | None = None
        ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([ISSUER_CMD, *args], env=env, capture_output=True, text=True,
                          timeout=300, check=False, cwd=cwd)


@pytest.fixture()
def did_file(client: FlaskClient, world: World, tmp_path: Path) -> Path:
    path = tmp_path / "did.json"
    path.write_bytes(client.get(f"/issuers/{world.issuer_slug}/did.json").data)
    return path


def verified(env: dict[str, str], path: Path, did_file: Path) -> bool:
    result = run(env, "verify", str(path), "--trust", str(did_file))
    assert "Traceback" not in result.stderr
    return result.returncode == 0 and "VALID" in result.stdout


@pytest.mark.parametrize("fmt", ["png", "svg"])
@pytest.mark.parametrize("by", ["id", "url"])
def test_bake_a_stored_credential_by_id_or_address(
    client: FlaskClient, session: Session, ctx: ServiceContext, world: World,
    env: dict[str, str], did_file: Path, tmp_path: Path, fmt: str, by: str
) -> None:
    row = issue(session, ctx, world, image=red_png())
    reference = row.id if by == "id" else f"{BASE_URL}/credentials/{row.id}"
    out = tmp_path / f"baked.{fmt}"
    result = run(env, "bake", reference, "--format", fmt, "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert f"baked credential {row.id} into {out}" in result.stdout
    used = "the image it was issued with" if fmt == "png" else "a default badge image"
    assert used in result.stdout
    baked = out.read_bytes()
    assert extract(baked) == row.document
    # The same bytes the credential page offers for download.
    assert baked == client.get(f"/credentials/{row.id}/badge.{fmt}").data
    assert verified(env, out, did_file)


def test_format_comes_from_the_out_extension_and_image_can_be_given(
    session: Session, ctx: ServiceContext, world: World, env: dict[str, str],
    did_file: Path, tmp_path: Path
) -> None:
    row = issue(session, ctx, world)
    svg_out = tmp_path / "badge.svg"
    assert run(env, "bake", row.id, "--out", str(svg_out)).returncode == 0
    assert svg_out.read_text(encoding="utf-8").lstrip().startswith("<svg")
    assert verified(env, svg_out, did_file)

    art = tmp_path / "art.png"
    art.write_bytes(red_png(20))
    out = tmp_path / "custom"
    result = run(env, "bake", row.id.upper(), "--image", str(art), "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert f"(PNG, {art})" in result.stdout
    with PILImage.open(out) as baked, PILImage.open(art) as original:
        assert baked.tobytes() == original.tobytes()
    assert extract(out.read_bytes()) == row.document
    assert verified(env, out, did_file)

    clash = run(env, "bake", row.id, "--image", str(art), "--format", "svg",
                "--out", str(tmp_path / "x.svg"))
    assert clash.returncode == 1
    assert "is a PNG image" in clash.stderr


@pytest.mark.slow
def test_refusals_are_plain_and_write_nothing(
    session: Session, ctx: ServiceContext, world: World, env: dict[str, str], tmp_path: Path
) -> None:
    row = issue(session, ctx, world)
    out = tmp_path / "out.png"
    cases = [
        (("bake", "00000000-0000-4000-8000-000000000000"), 1,
         "no credential 00000000-0000-4000-8000-000000000000"),
        (("bake", f"https://elsewhere.example/credentials/{row.id}"), 1,
         "not a credential of this service"),
        (("bake", f"{BASE_URL}/issuers/guild"), 1, "not a credential of this service"),
    ]
    big = tmp_path / "big.png"
    big.write_bytes(red_png() + b"\0" * BAKE_LIMIT)
    cases.append((("bake", row.id, "--image", str(big)), 1, "too large to bake"))
    for args, code, words in cases:
        result = run(env, *args, "--out", str(out))
        assert result.returncode == code, (args, result.stdout, result.stderr)
        assert words in result.stderr, result.stderr
        assert "Traceback" not in result.stderr
        assert not out.exists()

    out.write_bytes(b"keep me")
    kept = run(env, "bake", row.id, "--out", str(out))
    assert kept.returncode == 1 and "--force" in kept.stderr
    assert out.read_bytes() == b"keep me"
    assert run(env, "bake", row.id, "--out", str(out), "--force").returncode == 0
    assert extract(out.read_bytes()) == row.document


def test_a_file_needs_an_image_and_a_file_named_like_an_id_is_a_file(
    session: Session, ctx: ServiceContext, world: World, env: dict[str, str],
    did_file: Path, tmp_path: Path
) -> None:
    row = issue(session, ctx, world)
    (tmp_path / row.id).write_text(row.document, encoding="utf-8")
    no_image = run(env, "bake", row.id, "--out", "o.png", cwd=tmp_path)
    assert no_image.returncode == 2
    assert "--image is needed" in no_image.stderr
    (tmp_path / "art.png").write_bytes(red_png())
    from_file = run(env, "bake", row.id, "--image", "art.png", "--out", "o.png", cwd=tmp_path)
    assert from_file.returncode == 0, from_file.stderr
    assert "baked a JSON credential into o.png" in from_file.stdout
    assert verified(env, tmp_path / "o.png", did_file)


def test_an_uninitialised_database_is_reported(
    world: World, env: dict[str, str], tmp_path: Path
) -> None:
    empty = {**env, "ISSUER_DATABASE_URL": f"sqlite:///{tmp_path / 'empty.db'}"}
    result = run(empty, "bake", "00000000-0000-4000-8000-000000000000",
                 "--out", str(tmp_path / "o.png"))
    assert result.returncode == 2
    assert "run 'issuer init'" in result.stderr
    assert "Traceback" not in result.stderr
