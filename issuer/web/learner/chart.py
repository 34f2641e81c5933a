"""The CPD chart: hours per quarter, stacked by category, as a standalone SVG image.

Drawn on the server with presentation attributes only (``fill=``, ``stroke=``): the page's
Content Security Policy forbids inline styles, and an SVG shown through ``<img>`` cannot use
the page's stylesheet anyway. Built with ElementTree, so every name that reaches the picture is
escaped and the result is well-formed XML. The page puts a table with the same numbers next to
it for people who cannot see the chart.
"""

from __future__ import annotations

import math
from xml.etree import ElementTree as ET

from issuer.services.transcripts import Transcript, format_hours, hours_phrase

SVG_NS = "http://www.w3.org/2000/svg"
#: Okabe–Ito colours: told apart with the common kinds of colour blindness.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442",
           "#000000")
#: Room per quarter, and the plot's narrowest and widest: a short period stays large
#: enough to read on a phone, where the picture is scaled down to the screen.
SLOT = 72
MIN_PLOT = 288
MAX_PLOT = 648
PLOT_TOP = 40
PLOT_HEIGHT = 240
LEFT = 56
RIGHT = 16
LEGEND_ROW = 22

ET.register_namespace("", SVG_NS)


def colour(index: int) -> str:
    return PALETTE[index % len(PALETTE)]


def _nice_max(value: float) -> float:
    """A round top for the axis (1, 2, 5 × 10ⁿ) at or above ``value``."""
    if value <= 0:
        return 1.0
    exponent = math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        top = step * 10.0 ** exponent
        if top >= value:
            return top
    return 10.0 ** (exponent + 1)  # pragma: no cover - the loop always returns


def _el(parent: ET.Element, tag: str, text: str | None = None, **attrs: object) -> ET.Element:
    node = ET.SubElement(parent, f"{{{SVG_NS}}}{tag}",
                         {k.rstrip("_").replace("_", "-"): str(v) for k, v in attrs.items()})
    if text is not None:
        node.text = text
    return node


def chart_svg(result: Transcript) -> bytes:
    """The SVG document for ``result``; an empty period gives an empty chart with a note."""
    quarters = result.quarters
    categories = result.categories
    legend_rows = max(1, len(categories))
    height = PLOT_TOP + PLOT_HEIGHT + 48 + legend_rows * LEGEND_ROW
    plot_width = min(MAX_PLOT, max(MIN_PLOT, SLOT * len(quarters)))
    width = LEFT + plot_width + RIGHT
    root = ET.Element(f"{{{SVG_NS}}}svg", {
        "viewBox": f"0 0 {width} {height}", "width": str(width), "height": str(height),
        "role": "img", "aria-labelledby": "chart-title chart-desc",
        "font-family": "system-ui, sans-serif", "font-size": "12",
    })
    _el(root, "title", "CPD hours per quarter", id="chart-title")
    summary = "; ".join(f"{q}: {hours_phrase(h)}" for q, h in result.by_quarter())
    _el(root, "desc", f"Total {hours_phrase(result.total)}. {summary}".strip(),
        id="chart-desc")
    _el(root, "rect", x=0, y=0, width=width, height=height, fill="#ffffff")

    peak = max((h for _, h in result.by_quarter()), default=0.0)
    top = _nice_max(peak)
    baseline = PLOT_TOP + PLOT_HEIGHT
    for i in range(5):
        value = top * i / 4
        y = baseline - PLOT_HEIGHT * i / 4
        _el(root, "line", x1=LEFT, x2=width - RIGHT, y1=f"{y:.1f}", y2=f"{y:.1f}",
            stroke="#dde1ea", stroke_width=1)
        _el(root, "text", format_hours(value), x=LEFT - 6, y=f"{y + 4:.1f}",
            text_anchor="end", fill="#5b6475")
    _el(root, "text", "hours", x=8, y=PLOT_TOP - 14, fill="#5b6475")

    if not quarters:
        _el(root, "text", "No CPD hours in this period", x=LEFT + plot_width / 2,
            y=PLOT_TOP + PLOT_HEIGHT / 2, text_anchor="middle", fill="#5b6475")
    slot = plot_width / max(1, len(quarters))
    bar = max(2.0, min(48.0, slot * 0.7))
    # Label every quarter while they fit, else every n-th, so labels never overlap.
    every = max(1, math.ceil(len(quarters) * 56 / plot_width))
    for qi, quarter in enumerate(quarters):
        x = LEFT + slot * qi + (slot - bar) / 2
        y = float(baseline)
        for ci, category in enumerate(categories):
            hours = result.cell(quarter, category)
            if hours <= 0:
                continue
            h = PLOT_HEIGHT * hours / top
            y -= h
            rect = _el(root, "rect", x=f"{x:.1f}", y=f"{y:.1f}", width=f"{bar:.1f}",
                       height=f"{h:.1f}", fill=colour(ci))
            _el(rect, "title", f"{quarter}, {category}: {hours_phrase(hours)}")
        if qi % every == 0:
            _el(root, "text", quarter, x=f"{x + bar / 2:.1f}", y=baseline + 18,
                text_anchor="middle", fill="#1d2433")
    _el(root, "line", x1=LEFT, x2=width - RIGHT, y1=baseline, y2=baseline, stroke="#1d2433",
        stroke_width=1)

    legend_top = baseline + 40
    for ci, category in enumerate(categories):
        y = legend_top + ci * LEGEND_ROW
        _el(root, "rect", x=LEFT, y=y - 11, width=14, height=14, fill=colour(ci))
        _el(root, "text", category, x=LEFT + 22, y=y, fill="#1d2433")
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="utf-8",
                                                                      xml_declaration=False)
