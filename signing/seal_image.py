"""The seal as people see it: a round red seal (公章) drawn as SVG, one per unit.

Layout per 国务院关于国家行政机关和企业事业单位社会团体印章管理的规定 (国发〔1999〕25号):
a circle, a five-pointed star in the centre, the unit's name around the star, left to right
along the upper rim. The drawing is only the visible sign; the PAdES signature in the PDF
(``signing.pades``) is what proves who sealed it and that nothing changed since.
"""

from __future__ import annotations

import base64
import math
from xml.sax.saxutils import escape, quoteattr

SEAL_DIAMETER_MM = 42
"""国发〔1999〕25号 Art. 6: seals of units at county level and above are 4.2 cm across."""
SEAL_RED = "#d9181e"
_VIEW = 200  # drawing units across the viewBox
_RIM = 6
_TEXT_RADIUS = 74
_STAR_RADIUS = 30
_ARC_DEGREES = 240  # how much of the rim the name spans, centred on the top


def _star(cx: float, cy: float, outer: float) -> str:
    inner = outer * math.sin(math.radians(18)) / math.sin(math.radians(126))
    points = []
    for i in range(10):
        radius = outer if i % 2 == 0 else inner
        angle = math.radians(-90 + 36 * i)
        points.append(f"{cx + radius * math.cos(angle):.2f},{cy + radius * math.sin(angle):.2f}")
    return " ".join(points)


def seal_svg(unit_name: str) -> str:
    """The seal of ``unit_name`` as a standalone SVG document (the name is escaped)."""
    name = unit_name.strip()
    if not name:
        raise ValueError("the unit name is empty")
    centre = _VIEW / 2
    count = len(name)
    arc = min(_ARC_DEGREES, 22 * count)
    step = arc / max(count - 1, 1)
    size = min(30.0, 2 * math.pi * _TEXT_RADIUS * (arc / 360) / max(count, 1) * 0.95)
    chars = []
    for index, char in enumerate(name):
        angle = -arc / 2 + step * index if count > 1 else 0.0
        chars.append(
            f'<text transform="rotate({angle:.2f} {centre} {centre})" x="{centre}" '
            f'y="{centre - _TEXT_RADIUS + size * 0.4:.2f}" font-size="{size:.2f}" '
            f'text-anchor="middle">{escape(char)}</text>')
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_VIEW} {_VIEW}" '
        f'width="{SEAL_DIAMETER_MM}mm" height="{SEAL_DIAMETER_MM}mm">'
        f'<title>{escape(name)}</title>'
        f'<circle cx="{centre}" cy="{centre}" r="{centre - _RIM / 2 - 1}" fill="none" stroke="{SEAL_RED}" '
        f'stroke-width="{_RIM}"/>'
        f'<polygon points="{_star(centre, centre, _STAR_RADIUS)}" fill="{SEAL_RED}"/>'
        f'<g fill="{SEAL_RED}" font-family={quoteattr("Noto Serif CJK SC, Noto Sans CJK SC, serif")} '
        f'font-weight="bold">{"".join(chars)}</g></svg>')


def seal_data_uri(unit_name: str) -> str:
    """``seal_svg`` as a data: URI for an ``<img>`` in the HTML WeasyPrint renders."""
    return "data:image/svg+xml;base64," + base64.b64encode(seal_svg(unit_name).encode()).decode()
