"""Risk heat maps as server-side SVG, so the same picture works in the browser and in PDF reports."""

from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

CELL, LABEL_W, LABEL_H = 64, 110, 44


def _text_colour(hex_colour: str) -> str:
    r, g, b = (int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))
    return "#000" if (0.299 * r + 0.587 * g + 0.114 * b) > 150 else "#fff"


def heatmap_svg(*, matrix, counts: dict, title: str, link=None) -> str:
    """counts maps (likelihood, impact) to a number of risks; link(likelihood, impact) gives the
    filtered list URL of a cell, or None for a picture without links (PDF)."""
    size = matrix.size
    width, height = LABEL_W + size * CELL + 8, LABEL_H + size * CELL + 40
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'role="img" aria-labelledby="hm-{id(counts)}" class="qgov-heatmap">',
        f'<title id="hm-{id(counts)}">{escape(title)}</title>',
    ]
    for row in range(size):  # likelihood rises upwards
        likelihood = size - row
        y = 8 + row * CELL
        label = matrix.likelihood_labels[likelihood - 1]
        parts.append(f'<text x="{LABEL_W - 6}" y="{y + CELL / 2 + 4}" text-anchor="end" font-size="11">'
                     f'{likelihood} {escape(label)}</text>')
        for col in range(size):
            impact = col + 1
            x = LABEL_W + col * CELL
            band = matrix.band_for(likelihood * impact)
            colour = band["colour"] if band else "#eeeeee"
            count = counts.get((likelihood, impact), 0)
            describe = _("%(count)s risks at likelihood %(l)s, impact %(i)s (%(band)s)") % {
                "count": count, "l": likelihood, "i": impact, "band": band["name"] if band else ""}
            cell = (f'<rect x="{x}" y="{y}" width="{CELL - 2}" height="{CELL - 2}" rx="4" fill="{colour}" '
                    f'fill-opacity="{1 if count else 0.35}"><title>{escape(describe)}</title></rect>')
            if count:
                cell += (f'<text x="{x + CELL / 2 - 1}" y="{y + CELL / 2 + 6}" text-anchor="middle" font-size="18" '
                         f'font-weight="600" fill="{_text_colour(colour)}">{count}</text>')
            if link and count:
                cell = f'<a href="{escape(link(likelihood, impact))}" aria-label="{escape(describe)}">{cell}</a>'
            parts.append(cell)
    base = 8 + size * CELL
    for col in range(size):
        impact = col + 1
        parts.append(f'<text x="{LABEL_W + col * CELL + CELL / 2 - 1}" y="{base + 14}" text-anchor="middle" '
                     f'font-size="11">{impact}</text>')
        parts.append(f'<text x="{LABEL_W + col * CELL + CELL / 2 - 1}" y="{base + 27}" text-anchor="middle" '
                     f'font-size="9">{escape(matrix.impact_labels[col])}</text>')
    parts.append(f'<text x="{LABEL_W + size * CELL / 2}" y="{base + 39}" text-anchor="middle" font-size="11" '
                 f'font-weight="600">{escape(_("Impact"))} →</text>')
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 — every interpolated text above is escaped
