"""Uploaded SVG badge images: drawing is accepted, anything that runs or loads is not."""

from __future__ import annotations

import pytest

from issuer.core.svg_safety import UnsafeSvg, check_svg

NS = 'xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"'


def svg(body: str, *, attributes: str = "", prolog: str = "") -> bytes:
    return f'{prolog}<svg {NS}{attributes} viewBox="0 0 64 64">{body}</svg>'.encode()


INKSCAPE = (
    '<?xml version="1.0" encoding="UTF-8" standalone="no"?>\n'
    '<!-- Created with Inkscape (http://www.inkscape.org/) -->\n'
    '<svg xmlns="http://www.w3.org/2000/svg" '
    'xmlns:inkscape="http://www.inkscape.org/namespaces/inkscape" '
    'xmlns:sodipodi="http://sodipodi.sourceforge.net/DTD/sodipodi-0.dtd" '
    'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
    'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:cc="http://creativecommons.org/ns#" '
    'width="64" height="64" sodipodi:docname="badge.svg" inkscape:version="1.3">'
    '<sodipodi:namedview id="base" pagecolor="#ffffff" showgrid="false"/>'
    '<metadata><rdf:RDF><cc:Work rdf:about=""><dc:title>Badge</dc:title></cc:Work>'
    '</rdf:RDF></metadata>'
    '<g inkscape:label="Layer 1" inkscape:groupmode="layer">'
    '<circle cx="32" cy="32" r="30" style="fill:#c33;stroke:none"/></g></svg>\n')

ACCEPTED = {
    "an accessible badge": svg('<circle cx="32" cy="32" r="30"/>',
                               attributes=' role="img" aria-label="Peer Scaffolder badge"'),
    "shapes and text": svg('<rect width="64" height="64" fill="#3c3"/>'
                           '<text x="4" y="40" font-family="sans-serif">Zoë &amp; co</text>'),
    "a gradient used by fragment": svg(
        '<defs><linearGradient id="g"><stop offset="0" stop-color="#fff"/>'
        '<stop offset="1" stop-color="#000"/></linearGradient></defs>'
        '<circle r="30" cx="32" cy="32" fill="url(#g)" style="stroke: url( \'#g\' )"/>'),
    "a reused symbol": svg('<defs><path id="star" d="M0 0L10 10Z"/></defs>'
                           '<use href="#star"/><use xlink:href="#star" x="20"/>'),
    "a style sheet that draws": svg(
        '<style>circle { fill: #c33 } .ring { stroke: url(#g); }</style><circle r="4"/>'),
    "an animated colour": svg('<circle r="4"><animate attributeName="fill" values="red;blue" '
                              'dur="2s" repeatCount="indefinite"/></circle>'),
    "an embedded PNG": svg('<image width="8" height="8" href="data:image/png;base64,iVBORw0K"/>'),
    "a filter": svg('<filter id="f"><feGaussianBlur stdDeviation="2"/></filter>'
                    '<rect width="9" height="9" filter="url(#f)"/>'),
    "the SVG 1.1 DOCTYPE": svg('<rect width="1" height="1"/>', prolog=(
        '<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" '
        '"http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">')),
    "an editor's metadata": INKSCAPE.encode(),
}


@pytest.mark.parametrize("name", ACCEPTED)
def test_drawings_are_accepted(name: str) -> None:
    check_svg(ACCEPTED[name])


REFUSED = {
    # Found by the review: each passed the deny-list.
    "a javascript: link behind a character reference": svg(
        '<a xlink:href="java&#x09;script:alert(1)"><rect width="9" height="9"/></a>'),
    "a javascript: href behind a character reference, on an allowed element": svg(
        '<use href="java&#x09;script:alert(1)"/>'),
    "a javascript: href behind a newline and a leading space": svg(
        '<use xlink:href=" &#10;jav&#x0A;ascript:alert(1)"/>'),
    "an animation that turns a link into javascript:": svg(
        '<use href="#a"><animate attributeName="href" values="javascript:alert(1)"/></use>'),
    "a set of xlink:href": svg(
        '<use xlink:href="#a"><set attributeName="xlink:href" to="#b"/></use>'),
    "@import in a style sheet": svg('<style>@import url(https://evil.example/x.css);</style>'),
    "@import of a string in a style sheet": svg('<style>@import "//evil.example/x.css";</style>'),
    "an external url() in a style sheet": svg(
        '<style>rect { fill: url(https://evil.example/p.svg#p) }</style>'),
    "an escaped @import": svg('<style>@\\69mport "//evil.example/x.css";</style>'),
    "an external url() in a style attribute": svg(
        '<rect style="background:url(//evil.example/track.png)"/>'),
    "an external url() in a presentation attribute": svg(
        '<rect fill="url(https://evil.example/p.svg#p)"/>'),
    "an external image": svg('<image href="https://evil.example/track.png"/>'),
    "an external image by xlink": svg('<image xlink:href="//evil.example/track.png"/>'),
    "an SVG inside a data: image": svg(
        '<image href="data:image/svg+xml;base64,PHN2Zz48L3N2Zz4="/>'),
    "an external use": svg('<use href="https://evil.example/sprites.svg#a"/>'),
    # The deny-list caught these; the allow-list must too.
    "a script": svg("<script>alert(1)</script>"),
    "an XHTML script": svg('<h:script xmlns:h="http://www.w3.org/1999/xhtml">alert(1)</h:script>'),
    "an event handler": svg('<rect onload="alert(1)"/>'),
    "an event handler on the root": svg("<rect/>", attributes=' onload="alert(1)"'),
    "a foreignObject": svg('<foreignObject><div xmlns="http://www.w3.org/1999/xhtml">'
                           "hi</div></foreignObject>"),
    "an iframe": svg('<iframe src="https://evil.example/"/>'),
    "xml:base": svg('<use href="#a" xml:base="https://evil.example/"/>'),
    "a style sheet instruction": svg(
        "<rect/>", prolog='<?xml-stylesheet href="https://evil.example/x.css"?>'),
    "an entity declaration": svg("<text>&lol;</text>", prolog=(
        '<!DOCTYPE svg [<!ENTITY lol "lol">]>')),
    "an external entity": svg("<text>&xxe;</text>", prolog=(
        '<!DOCTYPE svg [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>')),
    "an undeclared entity": svg("<text>&nbsp;</text>"),
    "not XML": b"<svg><rect></svg>",
    "no svg root": b'<html xmlns="http://www.w3.org/1999/xhtml"><svg/></html>',
}


@pytest.mark.parametrize("name", REFUSED)
def test_anything_that_runs_or_loads_is_refused(name: str) -> None:
    with pytest.raises(UnsafeSvg):
        check_svg(REFUSED[name])


def test_the_reason_is_named() -> None:
    with pytest.raises(UnsafeSvg, match="animation may not change a link"):
        check_svg(REFUSED["an animation that turns a link into javascript:"])
    with pytest.raises(UnsafeSvg, match="script address"):
        check_svg(REFUSED["a javascript: href behind a character reference, on an allowed "
                          "element"])
