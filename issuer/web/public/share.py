"""Sharing a credential: links to the learner's networks, and the picture for link previews.

Everything here is a plain link the learner chooses to follow: no third-party script runs on
the page and the server sends nothing to LinkedIn, X or Facebook. Their pages read the
credential page's Open Graph tags (https://ogp.me) when the link is shared; ``og.png`` is the
picture those tags point to.
"""

from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote, urlencode

import PIL
from PIL import Image as PILImage
from PIL import ImageDraw, ImageFont, UnidentifiedImageError

from issuer.services.baking import ART_VERSION, default_badge, display_name, fit_text
from issuer.storage.models import Image
from issuer.web.public.view import CredentialView

#: The size LinkedIn, Facebook and X use for large link previews (1.91:1).
OG_WIDTH, OG_HEIGHT = 1200, 630
BADGE_BOX = 440
#: A badge image larger than this is not decoded for a preview (decompression bombs).
MAX_PREVIEW_PIXELS = 4096 * 4096

INK = (29, 36, 51)
MUTED = (91, 100, 117)
ACCENT = (47, 91, 211)
BACKGROUND = (246, 247, 251)

LINKEDIN_ADD = "https://www.linkedin.com/profile/add"
LINKEDIN_SHARE = "https://www.linkedin.com/sharing/share-offsite/"
X_INTENT = "https://twitter.com/intent/tweet"
FACEBOOK_SHARER = "https://www.facebook.com/sharer/sharer.php"


def _query(params: list[tuple[str, str]]) -> str:
    # %20 rather than "+": mailto (RFC 6068 §2) reads "+" literally, and the others accept both.
    return urlencode(params, quote_via=quote, safe="")


def linkedin_add_url(*, name: str, organization_name: str, cert_url: str, cert_id: str,
                     issued: datetime | None = None, expires: datetime | None = None,
                     organization_id: str | None = None) -> str:
    """LinkedIn's "Add license or certification" form, filled in with this credential.

    ``organizationId`` links the entry to the issuer's LinkedIn page; issuers do not record
    one yet, so it is only sent when given.
    """
    params = [("startTask", "CERTIFICATION_NAME"), ("name", name)]
    if organization_id:
        params.append(("organizationId", organization_id))
    params.append(("organizationName", organization_name))
    if issued is not None:
        params += [("issueYear", str(issued.year)), ("issueMonth", str(issued.month))]
    if expires is not None:
        params += [("expirationYear", str(expires.year)),
                   ("expirationMonth", str(expires.month))]
    params += [("certUrl", cert_url), ("certId", cert_id)]
    return f"{LINKEDIN_ADD}?{_query(params)}"


@dataclass(frozen=True)
class ShareLinks:
    linkedin_add: str
    linkedin: str
    x: str
    facebook: str
    email: str


def share_text(view: CredentialView, title: str, issuer_name: str) -> str:
    """One neutral sentence: the learner shares it, but anyone may read the page."""
    who = f"{view.recipient_name} earned" if view.recipient_name else "Open Badge:"
    return " ".join(f"{who} {title}, issued by {issuer_name}.".split())


def share_links(view: CredentialView, *, title: str, issuer_name: str, url: str,
                credential_id: str) -> ShareLinks:
    text = share_text(view, title, issuer_name)
    body = f"{text}\r\n\r\nSee the badge and check it here: {url}\r\n"
    return ShareLinks(
        linkedin_add=linkedin_add_url(name=title, organization_name=issuer_name,
                                      cert_url=url, cert_id=credential_id,
                                      issued=view.valid_from, expires=view.valid_until),
        linkedin=f"{LINKEDIN_SHARE}?{_query([('url', url)])}",
        x=f"{X_INTENT}?{_query([('text', text), ('url', url)])}",
        facebook=f"{FACEBOOK_SHARER}?{_query([('u', url)])}",
        email=f"mailto:?{_query([('subject', f'Open Badge: {title}'), ('body', body)])}",
    )


# -- the Open Graph picture -------------------------------------------------------------------


@dataclass(frozen=True)
class PreviewCard:
    """What the preview picture shows; the ETag is known before anything is drawn."""

    title: str
    issuer_name: str
    recipient_name: str | None
    image: Image | None  # a PNG badge image to show; None draws the default badge

    @property
    def etag(self) -> str:
        digest = hashlib.sha256()
        for part in ("og", ART_VERSION, PIL.__version__, self.title, self.issuer_name,
                     self.recipient_name or "", self.image.sha256 if self.image else ""):
            digest.update(part.encode("utf-8") + b"\0")
        return digest.hexdigest()[:40]


def _badge_picture(card: PreviewCard) -> PILImage.Image:
    """The stored PNG scaled into the box, or the default badge when it cannot be shown."""
    if card.image is not None:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error", PILImage.DecompressionBombWarning)
                with PILImage.open(io.BytesIO(card.image.data), formats=["PNG"]) as source:
                    width, height = source.size
                    if 0 < width * height <= MAX_PREVIEW_PIXELS:
                        picture = source.convert("RGBA")
                        scale = BADGE_BOX / max(width, height)
                        size = (max(1, round(width * scale)), max(1, round(height * scale)))
                        # Small pixel art stays crisp; photos and drawings are smoothed.
                        method = (PILImage.Resampling.NEAREST if max(width, height) <= 64
                                  else PILImage.Resampling.LANCZOS)
                        return picture.resize(size, method)
        except (OSError, ValueError, SyntaxError, UnidentifiedImageError,
                PILImage.DecompressionBombWarning, PILImage.DecompressionBombError):
            pass  # a damaged or unusual stored image: the default badge still says enough
    return default_badge(card.title, BADGE_BOX)


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def _line(draw: ImageDraw.ImageDraw, text: str, size: int, width: float) -> str:
    """``text`` on one line, cut with an ellipsis to ``width``."""
    font = _font(size)
    if draw.textlength(text, font=font) <= width:
        return text
    while text and draw.textlength(text + "…", font=font) > width:
        text = text[:-1]
    return text.rstrip() + "…"


def preview_png(card: PreviewCard) -> bytes:
    """A 1200×630 card: the badge on the left, its name, recipient and issuer on the right."""
    canvas = PILImage.new("RGB", (OG_WIDTH, OG_HEIGHT), BACKGROUND)
    draw = ImageDraw.Draw(canvas)
    draw.rectangle((0, OG_HEIGHT - 14, OG_WIDTH, OG_HEIGHT), fill=ACCENT)
    badge = _badge_picture(card)
    left = 70 + (BADGE_BOX - badge.width) // 2
    top = (OG_HEIGHT - 14 - badge.height) // 2
    canvas.paste(badge, (left, top), badge)

    x, right = 70 + BADGE_BOX + 60, OG_WIDTH - 60
    width = right - x
    title = display_name(card.title)
    size, lines = fit_text(title, width=width, height=250, sizes=range(64, 35, -4),
                           measure=lambda s, z: float(draw.textlength(s, font=_font(z))),
                           leading=1.15, max_lines=3)
    kicker = 34
    block = kicker + 24 + len(lines) * size * 1.15 + 30 + (46 if card.recipient_name else 0) + 40
    y = (OG_HEIGHT - 14 - block) / 2
    draw.text((x, y), "OPEN BADGE", font=_font(26), fill=ACCENT)
    y += kicker + 24
    for line in lines:
        draw.text((x, y), line, font=_font(size), fill=INK, stroke_width=max(1, size // 36),
                  stroke_fill=INK)
        y += size * 1.15
    y += 30
    if card.recipient_name:
        recipient = _line(draw, f"Awarded to {display_name(card.recipient_name)}", 34, width)
        draw.text((x, y), recipient, font=_font(34), fill=INK)
        y += 46
    issuer = _line(draw, f"Issued by {display_name(card.issuer_name)}", 30, width)
    draw.text((x, y), issuer, font=_font(30), fill=MUTED)
    buffer = io.BytesIO()
    canvas.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()
