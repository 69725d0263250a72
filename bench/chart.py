"""chart.svg: S1 and S3 of each one-core target as horizontal bars, written as plain SVG.

With the ceiling in the run the bars are ratios to it (dashed lines: the issue's 0.25 and
0.15 targets); without it (smoke runs), requests/s and sessions/s.
"""

from __future__ import annotations

from html import escape

from bench.measures import MAIN_FIELD, WORKERS, median, ratio

WIDTH, LABEL, ROW, BAR, TOP = 860, 300, 34, 12, 56
COLOURS = {"S1": "#2b6cb0", "S3": "#dd6b20"}
NAMES = {"S1": "S1 tool calls", "S3": "S3 session churn"}


def svg(outcome: dict) -> str:
    relative = "bare" in outcome["results"]
    keys = [k for k in outcome["targets"] if k not in WORKERS and not (relative and k == "bare")]
    values = {
        (k, s): (ratio(outcome, k, s) if relative else median(outcome, k, s, MAIN_FIELD[s]))
        for k in keys
        for s in ("S1", "S3")
    }
    top = max([v for v in values.values() if v] + [0.3 if relative else 1.0]) * 1.1
    plot = WIDTH - LABEL - 70
    height = TOP + ROW * len(keys) + 40

    def x(value: float) -> float:
        return LABEL + plot * value / top

    unit = "ratio to the bare ASGI ceiling (same round)" if relative else "per second"
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
        f'viewBox="0 0 {WIDTH} {height}" font-family="sans-serif" font-size="13">',
        f'<rect width="{WIDTH}" height="{height}" fill="#fff"/>',
        f'<text x="10" y="22" font-size="15" font-weight="bold">'
        f"{escape(outcome['date'])}: S1 and S3, {unit}</text>",
    ]
    for index, (scenario, colour) in enumerate(COLOURS.items()):
        parts.append(f'<rect x="{LABEL + index * 170}" y="34" width="12" height="12" fill="{colour}"/>')
        parts.append(f'<text x="{LABEL + index * 170 + 18}" y="45">{NAMES[scenario]}</text>')
    if relative:
        for mark, text in ((0.25, "0.25 memory target"), (0.15, "0.15 Redis target")):
            if mark < top:
                parts.append(
                    f'<line x1="{x(mark):.1f}" y1="{TOP - 4}" x2="{x(mark):.1f}" y2="{height - 34}" '
                    'stroke="#888" stroke-dasharray="4 3"/>'
                )
                parts.append(
                    f'<text x="{x(mark) + 3:.1f}" y="{height - 22}" fill="#555" font-size="11">{text}</text>'
                )
    for row, key in enumerate(keys):
        y = TOP + row * ROW
        label = outcome["targets"][key]["label"]
        weight = ' font-weight="bold"' if outcome["targets"][key]["ours"] else ""
        parts.append(
            f'<text x="{LABEL - 8}" y="{y + BAR + 5}" text-anchor="end"{weight}>{escape(label)}</text>'
        )
        for index, scenario in enumerate(("S1", "S3")):
            value = values[(key, scenario)]
            top_y = y + index * (BAR + 1)
            if value is None:
                parts.append(
                    f'<text x="{LABEL + 4}" y="{top_y + BAR - 2}" font-size="11" fill="#888">n/a</text>'
                )
                continue
            parts.append(
                f'<rect x="{LABEL}" y="{top_y}" width="{max(1.0, x(value) - LABEL):.1f}" height="{BAR}" '
                f'fill="{COLOURS[scenario]}"/>'
            )
            shown = f"{value:.2f}" if relative else f"{value:,.0f}"
            parts.append(f'<text x="{x(value) + 4:.1f}" y="{top_y + BAR - 2}" font-size="11">{shown}</text>')
    parts.append(f'<line x1="{LABEL}" y1="{TOP - 4}" x2="{LABEL}" y2="{height - 34}" stroke="#333"/>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"
