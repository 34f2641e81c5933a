"""Is an uploaded SVG badge image inert? An allow-list check of its elements and attributes.

An SVG is a document: opened on its own (the image's address, a link, "open image in new
tab") it may run script, load other documents, or restyle itself from elsewhere. A badge
image needs none of that, so only drawing is accepted (SVG 1.1/2 painting, shapes, text,
gradients, filters, animation of anything but links), and everything outside the lists
below is refused with the reason, rather than guessed at or rewritten:

* elements: only the SVG elements of :data:`ELEMENTS` (no ``script``, ``foreignObject``,
  ``a``, ``iframe``, ``handler``…), and the editors' vocabularies of
  :data:`METADATA_NAMESPACES` (RDF, Dublin Core, Creative Commons, Inkscape), which a
  browser neither draws nor runs; nothing of XHTML, whose ``<script>`` runs in an SVG too;
* attributes: only those of :data:`ATTRIBUTES` (and ``aria-*``; no event handlers
  ``on…``, no ``xml:base``); ``href`` and ``xlink:href`` may name a fragment of the same
  document or, on ``<image>``/``<feImage>``, a ``data:`` PNG, JPEG, GIF or WebP picture;
* ``<animate>``/``<set>``/… may not change ``href`` (SVG 2 §19.2.5: an animation can turn
  a harmless link into ``javascript:``), nor bring in a ``url()`` from elsewhere;
* CSS (``<style>``, ``style="…"`` and presentation values): no ``@import``, no ``url()``
  but ``url(#fragment)``, no escapes (``\\``) that could spell either;
* every value is judged after the XML parser has decoded its character references and
  with the white space and control characters a browser skips in URLs removed, so
  ``java&#x09;script:`` is ``javascript:``;
* XML: parsed with expat, the standard library's parser, without DTDs: an internal DTD
  subset, an entity declaration, an entity it cannot resolve, or a processing instruction
  (``<?xml-stylesheet?>`` loads a style sheet) is refused; a bare ``<!DOCTYPE svg PUBLIC
  …>`` declares nothing and is accepted.
"""

from __future__ import annotations

import re
import xml.parsers.expat
from typing import NoReturn

__all__ = ["ATTRIBUTES", "ELEMENTS", "UnsafeSvg", "check_svg"]

SVG = "http://www.w3.org/2000/svg"
XLINK = "http://www.w3.org/1999/xlink"
XML = "http://www.w3.org/XML/1998/namespace"
#: Vocabularies of editors' metadata, which no browser renders or runs.
METADATA_NAMESPACES = frozenset({
    "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "http://purl.org/dc/elements/1.1/",
    "http://purl.org/dc/terms/",
    "http://creativecommons.org/ns#",
    "http://web.resource.org/cc/",
    "http://www.inkscape.org/namespaces/inkscape",
    "http://sodipodi.sourceforge.net/DTD/sodipodi-0.dtd",
})

_FILTERS = ("feBlend feColorMatrix feComponentTransfer feComposite feConvolveMatrix "
            "feDiffuseLighting feDisplacementMap feDistantLight feDropShadow feFlood feFuncA "
            "feFuncB feFuncG feFuncR feGaussianBlur feImage feMerge feMergeNode feMorphology "
            "feOffset fePointLight feSpecularLighting feSpotLight feTile feTurbulence")
#: SVG elements that draw, group, describe or animate (SVG 2, Appendix "Element Index").
ELEMENTS = frozenset((
    "svg g defs title desc metadata symbol use switch path rect circle ellipse line "
    "polyline polygon text tspan textPath linearGradient radialGradient stop pattern "
    "clipPath mask marker filter image style animate animateMotion animateTransform set "
    "mpath " + _FILTERS).split())
#: Elements whose ``href`` may be a ``data:`` picture instead of a fragment.
_PICTURES = frozenset({"image", "feImage"})

#: Attributes without a namespace (SVG 2, Appendix "Attribute Index" and "Property Index").
ATTRIBUTES = frozenset((
    # core, geometry, painting
    "id class style lang tabindex version baseProfile viewBox preserveAspectRatio "
    "x y x1 y1 x2 y2 cx cy r rx ry fx fy fr width height d points pathLength transform "
    "transform-origin fill fill-opacity fill-rule stroke stroke-width stroke-linecap "
    "stroke-linejoin stroke-miterlimit stroke-dasharray stroke-dashoffset stroke-opacity "
    "opacity color display visibility overflow clip clip-path clip-rule mask filter "
    "marker-start marker-mid marker-end stop-color stop-opacity paint-order vector-effect "
    "shape-rendering text-rendering image-rendering color-rendering color-interpolation "
    "color-interpolation-filters flood-color flood-opacity lighting-color mix-blend-mode "
    "isolation cursor enable-background "
    # text
    "font font-family font-size font-size-adjust font-weight font-style font-variant "
    "font-stretch text-anchor dominant-baseline alignment-baseline baseline-shift "
    "letter-spacing word-spacing text-decoration writing-mode direction unicode-bidi "
    "dx dy rotate textLength lengthAdjust startOffset method spacing side "
    # paint servers, clipping, markers
    "href gradientUnits gradientTransform spreadMethod offset patternUnits "
    "patternContentUnits patternTransform clipPathUnits maskUnits maskContentUnits "
    "markerWidth markerHeight markerUnits refX refY orient "
    # filters
    "filterUnits primitiveUnits in in2 result stdDeviation mode type values operator "
    "k1 k2 k3 k4 radius scale xChannelSelector yChannelSelector baseFrequency numOctaves "
    "seed stitchTiles order kernelMatrix divisor bias targetX targetY edgeMode preserveAlpha "
    "surfaceScale diffuseConstant specularConstant specularExponent kernelUnitLength azimuth "
    "elevation pointsAtX pointsAtY pointsAtZ limitingConeAngle tableValues slope intercept "
    "amplitude exponent "
    # animation
    "attributeName attributeType begin dur end min max restart repeatCount repeatDur "
    "calcMode keyTimes keySplines from to by additive accumulate path keyPoints "
    # conditional processing
    "requiredFeatures requiredExtensions systemLanguage "
    # accessibility (WAI-ARIA 1.2 §6)
    "role focusable").split())
_ARIA = re.compile(r"aria-[a-z]+")
_XLINK_ATTRIBUTES = frozenset({"href", "title", "type", "role", "arcrole", "show", "actuate"})
_XML_ATTRIBUTES = frozenset({"space", "lang"})

#: Browsers skip these inside a URL's scheme (WHATWG URL §4.4: tab and newline are
#: removed, leading C0 controls and spaces trimmed).
_SKIPPED = re.compile(r"[\x00-\x20\x7f]+")
_SCRIPT_SCHEME = re.compile(r"(?:java|vb|live)script:|data:text/html")
_PICTURE = re.compile(r"data:image/(?:png|jpeg|gif|webp);base64,[a-z0-9+/=]*")
_URL = re.compile(r"url\(([^)]*)\)")
_CSS_COMMENT = re.compile(r"/\*.*?\*/", re.S)


class UnsafeSvg(ValueError):
    """The SVG is not accepted; the message says why."""


def _refuse(reason: str) -> NoReturn:
    raise UnsafeSvg(reason)


def _squeezed(value: str) -> str:
    return _SKIPPED.sub("", value).lower()


def _check_css(css: str, where: str) -> None:
    """CSS may restyle the drawing, not fetch anything (CSS Cascade §6 ``@import``,
    CSS Values §4.5 ``url()``)."""
    if "\\" in css:
        _refuse(f"{where}: CSS escapes are not accepted")
    text = _squeezed(_CSS_COMMENT.sub(" ", css))
    if "@import" in text or "@font-face" in text or "@namespace" in text:
        _refuse(f"{where}: CSS at-rules that load something (@import) are not accepted")
    if "expression(" in text or "image-set(" in text or "src(" in text:
        _refuse(f"{where}: this CSS function is not accepted")
    _check_urls(text, where)


def _check_urls(squeezed: str, where: str) -> None:
    for target in _URL.findall(squeezed):
        if not target.strip("'\"").startswith("#"):
            _refuse(f"{where}: url() may only name a part of this image (url(#id))")
    if "url(" in squeezed and not _URL.search(squeezed):
        _refuse(f"{where}: an unclosed url() is not accepted")


def _check_attribute(element: str, namespace: str, name: str, value: str) -> None:
    where = f"<{element} {name}>"
    if namespace == XLINK:
        if name not in _XLINK_ATTRIBUTES:
            _refuse(f"{where}: attribute not accepted")
    elif namespace == XML:
        if name not in _XML_ATTRIBUTES:
            _refuse(f"{where}: attribute not accepted")  # xml:base moves every link
    elif namespace in METADATA_NAMESPACES:
        return  # editors' bookkeeping (inkscape:label, sodipodi:docname)
    elif namespace or not (name in ATTRIBUTES or _ARIA.fullmatch(name)):
        _refuse(f"{where}: attribute not accepted")
    squeezed = _squeezed(value)
    if _SCRIPT_SCHEME.search(squeezed):
        _refuse(f"{where}: a script address is not accepted")
    if name == "href":
        if not (squeezed.startswith("#")
                or (element in _PICTURES and _PICTURE.fullmatch(squeezed))):
            _refuse(f"{where}: links may only name a part of this image"
                    + (" or be a data: PNG, JPEG, GIF or WebP picture"
                       if element in _PICTURES else ""))
    if name == "attributeName" and squeezed.rpartition(":")[2] == "href":
        _refuse(f"{where}: an animation may not change a link")
    if name == "style":
        _check_css(value, where)
    else:
        _check_urls(squeezed, where)


class _Checker:
    def __init__(self) -> None:
        self.open: list[str] = []
        self.style: list[str] | None = None
        self.root_seen = False

    def start(self, qualified: str, attributes: dict[str, str]) -> None:
        namespace, _, name = qualified.rpartition(" ")
        if not self.root_seen:
            self.root_seen = True
            if name != "svg" or namespace not in (SVG, ""):
                _refuse("the image's root element is not <svg>")
        if namespace in (SVG, ""):
            if name not in ELEMENTS:
                _refuse(f"<{name}>: element not accepted")
        elif namespace in METADATA_NAMESPACES:
            self.open.append(name)  # inert, whatever its attributes say
            self.style = None
            return
        else:
            _refuse(f"<{name}> in {namespace}: element not accepted")
        for key, value in attributes.items():
            attr_namespace, _, attr_name = key.rpartition(" ")
            _check_attribute(name, attr_namespace, attr_name, value)
        self.open.append(name)
        self.style = [] if name == "style" else None

    def end(self, qualified: str) -> None:
        name = self.open.pop()
        if name == "style" and self.style is not None:
            _check_css("".join(self.style), "<style>")
            self.style = None

    def text(self, data: str) -> None:
        if self.style is not None:
            self.style.append(data)


def check_svg(data: bytes) -> None:
    """Raise :class:`UnsafeSvg` unless ``data`` is well-formed XML with an ``<svg>`` root
    and only what the module's notes accept."""
    checker = _Checker()
    parser = xml.parsers.expat.ParserCreate(namespace_separator=" ")
    parser.SetParamEntityParsing(xml.parsers.expat.XML_PARAM_ENTITY_PARSING_NEVER)

    def doctype(name: str, system_id: str | None, public_id: str | None,
                has_internal_subset: int) -> None:
        if has_internal_subset:
            _refuse("a DOCTYPE with declarations is not accepted")

    def entity(*_: object) -> None:
        _refuse("entity declarations are not accepted")

    def skipped(name: str, is_parameter_entity: int) -> None:
        _refuse(f"the entity &{name}; is not accepted")

    def instruction(target: str, data: str) -> None:
        _refuse(f"the processing instruction <?{target}?> is not accepted")

    def external(*_: object) -> int:
        _refuse("external entities are not accepted")

    parser.StartDoctypeDeclHandler = doctype
    parser.EntityDeclHandler = entity
    parser.UnparsedEntityDeclHandler = entity
    parser.SkippedEntityHandler = skipped
    parser.ProcessingInstructionHandler = instruction
    parser.ExternalEntityRefHandler = external
    parser.StartElementHandler = checker.start
    parser.EndElementHandler = checker.end
    parser.CharacterDataHandler = checker.text
    try:
        parser.Parse(data, True)
    except xml.parsers.expat.ExpatError as exc:
        raise UnsafeSvg(f"the image is not well-formed XML: {exc}") from None
    if not checker.root_seen:
        _refuse("the image has no <svg> element")
