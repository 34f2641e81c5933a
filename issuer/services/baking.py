"""Baked badges of the credentials issued here: the signed credential inside its image.

OB 3.0 §5.3 (Baked Badges): the credential travels inside a PNG (§5.3.1, an ``iTXt`` chunk)
or an SVG (§5.3.2, an ``openbadges:credential`` element), so the picture a learner posts is
itself verifiable. The credential is baked exactly as it is stored (``Credential.document``):
re-serializing it could break the proof.

Which picture: the image the credential names (``credentialSubject.achievement.image``) when
it is one served here (``{base}/images/<id>``) and has the format asked for. That is the
image the credential was issued with, so editing the achievement later never changes a baked
badge. Otherwise — another format, no image, an image elsewhere — a plain round badge with
the achievement's name is drawn, since nothing is ever fetched from other sites.

The web page and ``issuer bake`` both call :func:`badge_source` and :func:`bake_badge`.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import re
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, cast
from urllib.parse import urlsplit
from xml.sax.saxutils import escape

import PIL
from PIL import Image as PILImage
from PIL import ImageDraw, ImageFont
from sqlalchemy.orm import Session

from issuer.core import baking
from issuer.core.errors import InputError
from issuer.core.proofs.vc_jwt import looks_like_jws
from issuer.services.achievements import slugify
from issuer.services.context import ServiceContext
from issuer.services.errors import Invalid
from issuer.storage.models import Credential, Image

BadgeFormat = Literal["png", "svg"]
FORMATS: tuple[BadgeFormat, ...] = ("png", "svg")
MEDIA_TYPES: dict[BadgeFormat, str] = {"png": "image/png", "svg": "image/svg+xml"}

#: The largest image a credential is baked into. Uploads are limited far lower
#: (``ISSUER_MAX_IMAGE_BYTES``); this also bounds images kept from a higher limit, or given
#: to ``issuer bake --image``.
BAKE_LIMIT = baking.MAX_IMAGE_BYTES

#: Bumped whenever the drawn default badge changes, so cached copies are not reused.
ART_VERSION = "1"

#: Colours of the default badge, from the service's own palette (static/style.css).
ACCENT = "#2f5bd3"
ACCENT_DARK = "#24479f"
GOLD = "#ffd166"
WHITE = "#ffffff"

#: Names longer than this are cut with an ellipsis: a badge is not a place for a paragraph.
MAX_NAME_CHARS = 120

#: XML 1.0 §2.2 Char: characters that may not appear in an XML document at all.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


# -- which credential, which image ------------------------------------------------------------


def credential_reference(value: str, base: str) -> str | None:
    """The credential id in ``value``: a UUID, or ``{base}/credentials/<uuid>`` of this service.

    Only this service's own scheme, host and path prefix are accepted; anything else is None.
    """
    value = value.strip()
    if not value.lower().startswith(("http://", "https://")):
        return _uuid(value)
    parts, home = urlsplit(value), urlsplit(base)
    if (parts.scheme.lower(), parts.netloc.lower()) != (home.scheme.lower(),
                                                        home.netloc.lower()):
        return None
    prefix = f"{home.path.rstrip('/')}/credentials/"
    if parts.query or parts.fragment or not parts.path.startswith(prefix):
        return None
    return _uuid(parts.path[len(prefix):].rstrip("/"))


def _uuid(value: str) -> str | None:
    try:
        return str(uuid.UUID(value)) if re.fullmatch(r"[0-9A-Fa-f-]{32,36}", value) else None
    except ValueError:
        return None


def _document(credential: Credential) -> Mapping[str, Any]:
    try:
        value = json.loads(credential.document)
    except (ValueError, RecursionError):
        return {}
    return value if isinstance(value, Mapping) else {}


def _achievement_of(document: Mapping[str, Any]) -> Mapping[str, Any]:
    subject = document.get("credentialSubject")
    if isinstance(subject, list):
        subject = subject[0] if subject else None
    achievement = subject.get("achievement") if isinstance(subject, Mapping) else None
    return achievement if isinstance(achievement, Mapping) else {}


def _image_id(achievement: Mapping[str, Any], base: str) -> int | None:
    """OB 3.0 §B.1.10 Image: ``image`` is an object with an ``id``, or (leniently) a URL."""
    image = achievement.get("image")
    url = image.get("id") if isinstance(image, Mapping) else image
    prefix = f"{base}/images/"
    if not isinstance(url, str) or not url.startswith(prefix):
        return None
    rest = url[len(prefix):]
    return int(rest) if rest.isdigit() and len(rest) < 18 else None


def issued_image(session: Session, ctx: ServiceContext, credential: Credential) -> Image | None:
    """The stored image the credential names, or None when it names none served here."""
    image_id = _image_id(_achievement_of(_document(credential)), ctx.base)
    return session.get(Image, image_id) if image_id is not None else None


def badge_name(credential: Credential) -> str:
    """The name shown on a drawn badge: what was signed, else what was recorded at issue."""
    document = _document(credential)
    for value in (_achievement_of(document).get("name"), document.get("name")):
        if isinstance(value, str) and value.strip():
            return value
    return credential.achievement_name or "Open Badge"


def image_format_of(image: Image) -> BadgeFormat | None:
    found = baking.image_format(image.data)
    return found if found in FORMATS else None


# -- the plan, then the work -----------------------------------------------------------------


@dataclass(frozen=True)
class BadgeSource:
    """What one baked badge is made of, decided cheaply before any image work is done."""

    credential: Credential
    format: BadgeFormat
    name: str
    image: Image | None  # the stored image to bake into; None draws the default badge

    @property
    def etag(self) -> str:
        """Strong validator: the same credential, image and drawing give the same bytes."""
        digest = hashlib.sha256()
        for part in (ART_VERSION, PIL.__version__, self.format,
                     self.image.sha256 if self.image is not None else "default",
                     self.credential.document):
            digest.update(part.encode("utf-8") + b"\0")
        return digest.hexdigest()[:40]

    @property
    def filename(self) -> str:
        """Named after the badge; a slug keeps the HTTP header and the file system safe."""
        return f"{slugify(self.name)}.{self.format}"

    @property
    def media_type(self) -> str:
        return MEDIA_TYPES[self.format]


def badge_source(session: Session, ctx: ServiceContext, credential: Credential,
                 fmt: str) -> BadgeSource:
    """The image the credential's badge is baked into, for ``fmt`` (``png`` or ``svg``)."""
    if fmt not in FORMATS:
        raise Invalid(f"a badge image is a PNG or an SVG, not {fmt!r}", {"format": "png or svg"})
    image = issued_image(session, ctx, credential)
    if image is not None and image_format_of(image) != fmt:
        image = None
    return BadgeSource(credential=credential, format=cast(BadgeFormat, fmt),
                       name=badge_name(credential), image=image)


@dataclass(frozen=True)
class BakedBadge:
    data: bytes
    source: BadgeSource


def bake_badge(source: BadgeSource, *, limit: int = BAKE_LIMIT) -> BakedBadge:
    """Bake the stored credential into the chosen image (OB 3.0 §5.3)."""
    if source.image is not None:
        image = source.image.data
        what = "the badge image"
    elif source.format == "png":
        image, what = default_badge_png(source.name), "the default badge image"
    else:
        image, what = default_badge_svg(source.name).encode("utf-8"), "the default badge image"
    return BakedBadge(bake_into(image, source.credential.document, source.format,
                                limit=limit, what=what), source)


def bake_into(image: bytes, payload: str, fmt: str | None = None, *, limit: int = BAKE_LIMIT,
              what: str = "the image") -> bytes:
    """``payload`` (credential JSON or compact JWS) baked into ``image``, a PNG or an SVG.

    Refuses, in plain words, an image over ``limit`` bytes, of another format than ``fmt``,
    or one that cannot carry the credential; the error names ``what`` was being baked into.
    """
    check_size(image, what, limit=limit)
    found = baking.image_format(image)
    if found is None:
        raise Invalid(f"{what} is neither a PNG nor an SVG image", {"image": "PNG or SVG"})
    if fmt is not None and found != fmt:
        raise Invalid(f"{what} is a {found.upper()} image, not a {fmt.upper()}",
                      {"image": f"not a {fmt.upper()}"})
    text = payload.strip()
    try:
        if found == "png":
            return baking.bake_png(image, text, max_bytes=limit)
        return baking.bake_svg(image, text, jws=looks_like_jws(text)).encode("utf-8")
    except InputError as exc:
        raise Invalid(f"the credential cannot be baked into {what}: {exc.message}",
                      {"image": exc.message}) from None


def check_size(image: bytes, what: str = "the image", *, limit: int = BAKE_LIMIT) -> None:
    """Refuse, before any parsing, an image larger than a credential is baked into."""
    if len(image) > limit:
        raise Invalid(f"{what} is too large to bake a credential into: {len(image):,} bytes, "
                      f"and the limit is {limit:,} bytes ({_size(limit)}). Use a smaller image.",
                      {"image": "too large to bake"})


def _size(count: int) -> str:
    if count >= 1024 * 1024:
        return f"{count / (1024 * 1024):.1f} MB"
    return f"{max(1, round(count / 1024))} KB"


# -- the default badge -----------------------------------------------------------------------


def display_name(name: str) -> str:
    """One line of printable text: no control characters, collapsed spaces, bounded length."""
    text = " ".join(_NOT_XML.sub(" ", name).split()) or "Open Badge"
    if len(text) > MAX_NAME_CHARS:
        text = text[:MAX_NAME_CHARS - 1].rstrip() + "…"
    return text


def wrap(text: str, width: float, measure: Callable[[str], float], *,
         split_words: bool = True) -> list[str] | None:
    """Greedy word wrap to ``width``.

    A word wider than a line is split between characters, or, without ``split_words``, the
    answer is None so that the caller can try a smaller font first.
    """
    lines: list[str] = []
    line = ""
    for word in text.split():
        candidate = f"{line} {word}" if line else word
        if measure(candidate) <= width:
            line = candidate
            continue
        if line:
            lines.append(line)
        if measure(word) <= width:
            line = word
            continue
        if not split_words:
            return None
        line = ""
        for char in word:
            if line and measure(line + char) > width:
                lines.append(line)
                line = ""
            line += char
    if line:
        lines.append(line)
    return lines


def fit_text(text: str, *, width: float, height: float, sizes: Sequence[int],
             measure: Callable[[str, int], float], leading: float = 1.2,
             max_lines: int = 4) -> tuple[int, list[str]]:
    """The largest font size (of ``sizes``, largest first) whose lines fit the box, and the lines.

    Sizes that keep every word whole are preferred. At the smallest size, lines beyond
    ``max_lines`` are dropped and the last one ends with an ellipsis, so any name fits.
    """
    for split_words in (False, True):
        for size in sizes:
            lines = wrap(text, width, lambda s, z=size: measure(s, z), split_words=split_words)
            if (lines is not None and len(lines) <= max_lines
                    and len(lines) * size * leading <= height):
                return size, lines
    size = sizes[-1]
    lines = wrap(text, width, lambda s: measure(s, size)) or [text]
    if len(lines) > max_lines:
        last = lines[max_lines - 1]
        while last and measure(last + "…", size) > width:
            last = last[:-1]
        lines = [*lines[:max_lines - 1], last.rstrip() + "…"]
    return size, lines


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    # Pillow ≥ 10.1 ships a scalable font; no system font is needed.
    return ImageFont.load_default(size=size)


def _star(cx: float, cy: float, outer: float, inner: float) -> list[tuple[float, float]]:
    points = []
    for i in range(10):
        radius = outer if i % 2 == 0 else inner
        angle = math.pi / 2 + i * math.pi / 5
        points.append((cx + radius * math.cos(angle), cy - radius * math.sin(angle)))
    return points


def default_badge(name: str, size: int = 512) -> PILImage.Image:
    """A round badge with the achievement's name, drawn at twice the size for smooth edges."""
    scale = 2
    full = size * scale
    canvas = PILImage.new("RGBA", (full, full), (0, 0, 0, 0))
    draw = ImageDraw.Draw(canvas)
    pad = full * 0.015
    draw.ellipse((pad, pad, full - pad, full - pad), fill=ACCENT)
    ring = full * 0.07
    draw.ellipse((ring, ring, full - ring, full - ring), outline=WHITE, width=round(full * 0.012))
    inner = full * 0.1
    draw.ellipse((inner, inner, full - inner, full - inner), fill=ACCENT_DARK)
    draw.polygon(_star(full / 2, full * 0.26, full * 0.075, full * 0.032), fill=GOLD)
    text = display_name(name)

    def measure(line: str, points: int) -> float:
        return float(draw.textlength(line, font=_font(points)))

    box_width, box_height = full * 0.58, full * 0.4
    font_size, lines = fit_text(text, width=box_width, height=box_height,
                                sizes=range(round(full * 0.11), round(full * 0.035), -4),
                                measure=measure)
    font = _font(font_size)
    line_height = font_size * 1.2
    top = full * 0.56 - len(lines) * line_height / 2
    for i, line in enumerate(lines):
        # A thin outline of the same colour makes the one shipped font read as semi-bold.
        draw.text((full / 2, top + (i + 0.5) * line_height), line, font=font, fill=WHITE,
                  anchor="mm", stroke_width=max(1, font_size // 40), stroke_fill=WHITE)
    return canvas.resize((size, size), PILImage.Resampling.LANCZOS)


def default_badge_png(name: str, size: int = 512) -> bytes:
    buffer = io.BytesIO()
    default_badge(name, size).save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def _svg_measure(line: str, points: int) -> float:
    # Without font metrics, an average bold sans-serif glyph is about 0.62 em wide; wide
    # glyphs (capitals, CJK) count as a full em so that long names stay inside the circle.
    return sum(1.0 if (c.isupper() or ord(c) > 0x2E7F) else 0.62 for c in line) * points


def default_badge_svg(name: str) -> str:
    """The default badge as SVG; every piece of text is escaped for XML (§2.4, §3.3.3)."""
    text = display_name(name)
    font_size, lines = fit_text(text, width=300, height=200, sizes=range(56, 17, -2),
                                measure=_svg_measure)
    line_height = font_size * 1.2
    top = 287 - len(lines) * line_height / 2
    tspans = "".join(
        f'<tspan x="256" y="{top + (i + 0.5) * line_height:.1f}">{escape(line)}</tspan>'
        for i, line in enumerate(lines)
    )
    star = " ".join(f"{x:.1f},{y:.1f}" for x, y in _star(256, 133, 38, 16))
    label = escape(text, {'"': "&quot;"})
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" width="512" height="512" '
        f'viewBox="0 0 512 512" role="img" aria-label="{label}">'
        f"<title>{escape(text)}</title>"
        f'<circle cx="256" cy="256" r="248" fill="{ACCENT}"/>'
        f'<circle cx="256" cy="256" r="220" fill="none" stroke="{WHITE}" stroke-width="6"/>'
        f'<circle cx="256" cy="256" r="205" fill="{ACCENT_DARK}"/>'
        f'<polygon points="{star}" fill="{GOLD}"/>'
        f'<text font-family="DejaVu Sans, Helvetica, Arial, sans-serif" font-size="{font_size}" '
        f'font-weight="700" fill="{WHITE}" text-anchor="middle" dominant-baseline="central">'
        f"{tspans}</text></svg>\n"
    )
