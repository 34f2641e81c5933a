"""QR codes that take a phone straight to a credential's live verification page."""

from __future__ import annotations

import io

import qrcode
import qrcode.constants
import qrcode.image.pil
import qrcode.image.svg

#: Level M survives a little dirt or a crease on a printed certificate (ISO/IEC 18004 §6.5.1:
#: about 15 % of the code words can be restored) while keeping the code small.
ERROR_CORRECTION = qrcode.constants.ERROR_CORRECT_M
BOX_SIZE = 8
#: ISO/IEC 18004 §6.3.8: a quiet zone of four modules on every side.
BORDER = 4


def _code(payload: str, factory: type) -> qrcode.QRCode:  # type: ignore[type-arg]
    code = qrcode.QRCode(error_correction=ERROR_CORRECTION, box_size=BOX_SIZE,
                         border=BORDER, image_factory=factory)
    code.add_data(payload)
    code.make(fit=True)
    return code


def qr_png(payload: str) -> bytes:
    """A black-on-white PNG of the QR code for ``payload``."""
    buffer = io.BytesIO()
    _code(payload, qrcode.image.pil.PilImage).make_image().save(buffer)
    return buffer.getvalue()


def qr_svg(payload: str) -> bytes:
    """An SVG of the QR code with a white background, so it scans on dark pages too."""
    image = _code(payload, qrcode.image.svg.SvgPathFillImage).make_image()
    data: bytes = image.to_string(encoding="unicode").encode("utf-8")
    return data
