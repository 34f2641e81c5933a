"""`issuer bake FILE --image IMG --out PATH`, then `issuer verify PATH`, as other tools run them.

Exit codes: 0 done, 1 refused (not a signed credential, output exists), 2 unreadable input.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from issuer.core.baking import extract
from tests.core.helpers import unsigned_badge

ISSUER = shutil.which("issuer", path=str(Path(sys.executable).parent)) or "issuer"
AT = ("--at", "2026-06-01T00:00:00Z")
SVG = '<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8"><rect width="8"/></svg>\n'


def run(*args: str, stdin: str | None = None, cwd: Path | None = None
        ) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [ISSUER, *args], input=stdin, capture_output=True, text=True, timeout=120,
        env=dict(os.environ), cwd=cwd,
    )


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A key, an unsigned and two signed credentials, a PNG and an SVG."""
    folder = tmp_path_factory.mktemp("bake")
    made = run("keys", "generate", "--out", str(folder / "key.pem"))
    assert made.returncode == 0, made.stderr
    (folder / "unsigned.json").write_text(json.dumps(unsigned_badge(made.stdout.strip())))
    for suite, name in (("eddsa-rdfc-2022", "signed.json"), ("vc-jwt", "signed.jwt")):
        signed = run("sign", str(folder / "unsigned.json"), "--key", str(folder / "key.pem"),
                     "--suite", suite)
        assert signed.returncode == 0, signed.stderr
        (folder / name).write_text(signed.stdout)
    Image.new("P", (16, 16), 3).save(folder / "badge.png")
    (folder / "badge.svg").write_text(SVG)
    return folder


@pytest.mark.parametrize("credential", ["signed.json", "signed.jwt"])
@pytest.mark.parametrize("image", ["badge.png", "badge.svg"])
def test_bake_then_verify_the_image(
    workdir: Path, tmp_path: Path, credential: str, image: str
) -> None:
    out = tmp_path / f"baked{Path(image).suffix}"
    baked = run("bake", str(workdir / credential), "--image", str(workdir / image),
                "--out", str(out))
    assert baked.returncode == 0, baked.stderr
    assert extract(out.read_bytes()) == (workdir / credential).read_text().strip()
    verified = run("verify", str(out), *AT)
    assert verified.returncode == 0, verified.stdout
    kind = "a PNG image" if image.endswith(".png") else "an SVG image"
    assert f"baked into {kind}" in verified.stdout
    assert "VALID" in verified.stdout


def test_baked_png_opens_as_the_same_picture(workdir: Path, tmp_path: Path) -> None:
    out = tmp_path / "baked.png"
    assert run("bake", str(workdir / "signed.json"), "--image", str(workdir / "badge.png"),
               "--out", str(out)).returncode == 0
    with Image.open(out) as baked, Image.open(workdir / "badge.png") as original:
        assert baked.tobytes() == original.tobytes()
        assert baked.getpalette() == original.getpalette()


def test_credential_from_standard_input(workdir: Path, tmp_path: Path) -> None:
    out = tmp_path / "piped.png"
    result = run("bake", "-", "--image", str(workdir / "badge.png"), "--out", str(out),
                 stdin=(workdir / "signed.jwt").read_text())
    assert result.returncode == 0, result.stderr
    assert run("verify", str(out), *AT).returncode == 0


def test_refuses_to_overwrite_without_force(workdir: Path, tmp_path: Path) -> None:
    out = tmp_path / "baked.svg"
    out.write_text("keep me")
    args = ("bake", str(workdir / "signed.json"), "--image", str(workdir / "badge.svg"),
            "--out", str(out))
    refused = run(*args)
    assert refused.returncode == 1
    assert "exists" in refused.stderr and "--force" in refused.stderr
    assert out.read_text() == "keep me"
    assert run(*args, "--force").returncode == 0
    assert run("verify", str(out), *AT).returncode == 0


def test_rebaking_a_baked_image_replaces_the_credential(workdir: Path, tmp_path: Path) -> None:
    first, second = tmp_path / "one.png", tmp_path / "two.png"
    assert run("bake", str(workdir / "signed.json"), "--image", str(workdir / "badge.png"),
               "--out", str(first)).returncode == 0
    again = run("bake", str(workdir / "signed.jwt"), "--image", str(first), "--out", str(second))
    assert again.returncode == 0
    assert "replaced" in again.stderr
    assert extract(second.read_bytes()) == (workdir / "signed.jwt").read_text().strip()
    assert second.read_bytes().count(b"openbadgecredential") == 1


@pytest.mark.parametrize(
    ("credential", "words"),
    [
        ("unsigned.json", "no proof"),
        ("badge.png", "is an image, not a credential"),
        ("notes.txt", "neither a signed JSON credential nor a compact JWT"),
        ("list.json", "not a verifiable credential"),
        ("broken.json", "not valid JSON"),
    ],
)
def test_refuses_what_is_not_a_signed_credential(
    workdir: Path, tmp_path: Path, credential: str, words: str
) -> None:
    (workdir / "notes.txt").write_text("hello")
    (workdir / "list.json").write_text('{"type": ["Thing"], "proof": {"a": 1}}')
    (workdir / "broken.json").write_text('{"type": ')
    out = tmp_path / "out.png"
    result = run("bake", str(workdir / credential), "--image", str(workdir / "badge.png"),
                 "--out", str(out))
    assert result.returncode == 1, result.stderr
    assert words in result.stderr
    assert "Traceback" not in result.stderr
    assert not out.exists()


def test_format_must_match_the_image(workdir: Path, tmp_path: Path) -> None:
    result = run("bake", str(workdir / "signed.json"), "--image", str(workdir / "badge.png"),
                 "--out", str(tmp_path / "x.svg"), "--format", "svg")
    assert result.returncode == 1
    assert "is a PNG image" in result.stderr
    same = run("bake", str(workdir / "signed.json"), "--image", str(workdir / "badge.svg"),
               "--out", str(tmp_path / "y.svg"), "--format", "svg")
    assert same.returncode == 0


def test_unreadable_inputs_exit_2(workdir: Path, tmp_path: Path) -> None:
    missing = run("bake", str(tmp_path / "none.json"), "--image", str(workdir / "badge.png"),
                  "--out", str(tmp_path / "o.png"))
    assert missing.returncode == 2
    assert "cannot read" in missing.stderr
    (tmp_path / "photo.jpg").write_bytes(b"\xff\xd8\xff\xe0 not a badge image")
    wrong_image = run("bake", str(workdir / "signed.json"), "--image",
                      str(tmp_path / "photo.jpg"), "--out", str(tmp_path / "o.png"))
    assert wrong_image.returncode == 2
    assert "neither a PNG nor an SVG" in wrong_image.stderr
    broken = tmp_path / "broken.png"
    broken.write_bytes((workdir / "badge.png").read_bytes()[:-10])
    damaged = run("bake", str(workdir / "signed.json"), "--image", str(broken),
                  "--out", str(tmp_path / "o.png"))
    assert damaged.returncode == 2
    assert "truncated" in damaged.stderr


def test_verify_keeps_its_exit_codes_for_files_that_are_not_images(tmp_path: Path) -> None:
    binary = tmp_path / "blob.bin"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    result = run("verify", str(binary))
    assert result.returncode == 2
    assert "not UTF-8 text" in result.stderr
    plain = tmp_path / "plain.png"
    Image.new("RGB", (4, 4)).save(plain)
    unbaked = run("verify", str(plain))
    assert unbaked.returncode == 1
    assert "this image has no baked credential" in unbaked.stdout
