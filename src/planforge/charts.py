"""Charts as SVG text, drawn by planforge without a plotting library.

Every chart puts a text label beside each colour (a state, a level, a day count), so that it
reads in black and white and for colour-blind readers. Every piece of text is XML-escaped.
Text inside inline SVG ignores the page's ``lang``, so the font list names the Simplified Chinese
CJK font explicitly; without it Pango falls back to the Japanese glyph forms of shared characters.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from html import escape

from .facts import GoalFacts, HeatMap, MilestoneFacts, PhaseFacts
from .i18n import Translator

#: Keep in step with ``style.css``. Unquoted on purpose: WeasyPrint's SVG renderer keeps the
#: quotes of a quoted name in a list, matches no font and falls back to the Japanese CJK face.
FONT_LATIN = "Liberation Sans, Arial, Noto Sans, DejaVu Sans"
FONT_CJK = "Noto Sans CJK SC, Source Han Sans SC, Microsoft YaHei, PingFang SC"

WIDTH = 680  # px at 96 dpi: the text width of an A4 page with 15 mm margins

#: Fill (a light tint, so black text stays readable on it) and stroke per state.
COLOURS: dict[str, tuple[str, str]] = {
    "green": ("#d7ecd9", "#2e7d32"),
    "amber": ("#fde7b8", "#a35f00"),
    "red": ("#f7d0cc", "#b3261e"),
    "grey": ("#e9ecef", "#5f6b76"),
    "low": ("#d7ecd9", "#2e7d32"),
    "medium": ("#fff3b8", "#8a6d00"),
    "high": ("#fdd9b0", "#b45309"),
    "critical": ("#f4bcb6", "#b3261e"),
}
#: Bar fills: stronger than the tints, as a bar carries no text inside it.
BAR = {"green": "#7fbf84", "amber": "#f2b441", "red": "#e07a70", "grey": "#b8c0c8"}
INK = "#1f2933"
MUTED = "#5f6b76"
GRID = "#d5dbe1"

#: Milestone and goal states → colour family.
STATE_COLOUR = {
    "done-on-time": "green",
    "done-late": "amber",
    "on-track": "green",
    "slipping": "amber",
    "overdue": "red",
    "achieved": "green",
    "behind": "amber",
    "missed": "red",
    "not-measured": "grey",
    "waiting": "grey",
    "stale": "grey",
    "done": "green",
    "active": "grey",
    "not-started": "grey",
}


def font_family(locale: str) -> str:
    """The SVG font list of a locale: CJK first for Chinese documents, Latin first otherwise."""
    if locale == "zh-CN":
        return f"{FONT_CJK}, {FONT_LATIN}, sans-serif"
    return f"{FONT_LATIN}, {FONT_CJK}, sans-serif"


def text_width(text: str, size: float) -> float:
    """Estimated rendered width: wide (CJK) characters take a full em, others about half."""
    return sum(
        size if unicodedata.east_asian_width(ch) in "WF" else size * 0.56 for ch in text
    )


def fit(text: str, width: float, size: float) -> str:
    """Text shortened with an ellipsis to fit a width (SVG text never wraps)."""
    if text_width(text, size) <= width:
        return text
    out = ""
    for ch in text:
        if text_width(out + ch + "…", size) > width:
            break
        out += ch
    return out.rstrip() + "…"


def _x(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


class _Svg:
    """A tiny SVG writer: numbers rounded, every text escaped."""

    def __init__(self, width: float, height: float, title: str, locale: str) -> None:
        # The title is the chart's text alternative: WeasyPrint makes it the figure's /Alt.
        self.parts: list[str] = []
        self.width = width
        self.height = height
        self.title = title
        self.font = font_family(locale)

    def rect(self, x: float, y: float, w: float, h: float, fill: str, stroke: str = "none",
             rx: float = 0, dash: bool = False) -> None:
        extra = ' stroke-dasharray="3 2"' if dash else ""
        self.parts.append(
            f'<rect x="{_x(x)}" y="{_x(y)}" width="{_x(max(w, 0))}" height="{_x(h)}" '
            f'rx="{_x(rx)}" fill="{fill}" stroke="{stroke}"{extra}/>'
        )

    def line(self, x1: float, y1: float, x2: float, y2: float, stroke: str, width: float = 1,
             dash: str | None = None) -> None:
        extra = f' stroke-dasharray="{dash}"' if dash else ""
        self.parts.append(
            f'<line x1="{_x(x1)}" y1="{_x(y1)}" x2="{_x(x2)}" y2="{_x(y2)}" stroke="{stroke}" '
            f'stroke-width="{_x(width)}"{extra}/>'
        )

    def diamond(self, cx: float, cy: float, r: float, fill: str, stroke: str) -> None:
        corners = ((cx, cy - r), (cx + r, cy), (cx, cy + r), (cx - r, cy))
        points = " ".join(f"{_x(px)},{_x(py)}" for px, py in corners)
        self.parts.append(
            f'<polygon points="{points}" fill="{fill}" stroke="{stroke}" stroke-width="1.2"/>'
        )

    def text(self, x: float, y: float, text: str, size: float = 9, fill: str = INK,
             anchor: str = "start", bold: bool = False, vertical: bool = False) -> None:
        extra = ' font-weight="bold"' if bold else ""
        if vertical:  # reads bottom to top, as a y-axis title does
            extra += f' transform="rotate(-90 {_x(x)} {_x(y)})"'
        self.parts.append(
            f'<text x="{_x(x)}" y="{_x(y)}" font-size="{_x(size)}" fill="{fill}" '
            f'text-anchor="{anchor}"{extra}>{escape(text, quote=False)}</text>'
        )

    def render(self) -> str:
        head = (
            f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="{_x(self.width)}" '
            f'height="{_x(self.height)}" viewBox="0 0 {_x(self.width)} {_x(self.height)}" '
            f'role="img" aria-label="{escape(self.title)}" '
            f'font-family="{escape(self.font)}">'
        )
        return "".join([head, f"<title>{escape(self.title, quote=False)}</title>",
                        *self.parts, "</svg>"])


def _months(start: date, end: date) -> list[date]:
    first = date(start.year, start.month, 1)
    if first < start:
        first = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    out = []
    while first <= end:
        out.append(first)
        first = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return out


def _milestone_note(m: MilestoneFacts, tr: Translator) -> str:
    if m.state in ("slipping", "overdue", "done-late") and m.days:
        return tr.days(m.days)
    return tr.label(f"milestone_state.{m.state}")


def gantt(phases: Sequence[PhaseFacts], as_of: date, tr: Translator, accent: str,
          project_start: date, project_end: date, alt: str | None = None) -> str:
    """Phases as bars with their progress, milestones as baseline (hollow) and forecast or
    actual (filled) diamonds, and a line for today.

    A milestone pushed by a dependency draws its slip dotted, names its driver beside it and,
    when the driver is on the chart, gets a connector from the driver's diamond.
    """
    names = {i.id: i.name for p in phases for i in p.phase.milestones}
    names.update({t.id: t.name for p in phases for t in p.phase.tasks})
    placed: dict[str, tuple[float, float]] = {}  # milestone id: its forecast diamond
    dates = [project_start, project_end, as_of]
    for p in phases:
        dates += [p.phase.start, p.phase.end]
        dates += [d for m in p.milestones for d in (m.milestone.due, m.actual)]
    lo, hi = min(dates) - timedelta(days=3), max(dates) + timedelta(days=3)
    span = max((hi - lo).days, 1)
    label_w, note_w, top, row_h, size = 215.0, 64.0, 30.0, 17.0, 9.5
    plot_x, plot_w = label_w, WIDTH - label_w - note_w
    rows = sum(1 + len(p.milestones) for p in phases)
    legend_y = top + rows * row_h + 16
    svg = _Svg(WIDTH, legend_y + 10, alt or tr.label("chart.gantt"), tr.locale)

    def x_of(day: date) -> float:
        return plot_x + plot_w * (day - lo).days / span

    months = _months(lo, hi)
    every = max(1, round(len(months) * 52 / plot_w + 0.49)) if months else 1
    for i, month in enumerate(months):
        x = x_of(month)
        svg.line(x, top - 6, x, top + rows * row_h, GRID)
        if i % every == 0:
            fmt = "yMMM" if i == 0 or month.month == 1 else "MMM"
            svg.text(x + 2, top - 9, tr.month(month, fmt), size=9, fill=MUTED)
    y = top
    for p in phases:
        svg.rect(0, y, WIDTH, row_h, "#f4f6f8")
        svg.text(4, y + row_h - 4, fit(p.phase.name, label_w - 8, size), size=size, bold=True)
        x1, x2 = x_of(p.phase.start), x_of(p.phase.end)
        svg.rect(x1, y + 3, x2 - x1, row_h - 6, "#ffffff", accent, rx=1.5)
        svg.rect(x1, y + 3, (x2 - x1) * min(max(p.progress, 0.0), 1.0), row_h - 6, accent,
                 accent, rx=1.5)
        svg.text(WIDTH - 4, y + row_h - 4, tr.percent(p.progress), size=9, fill=MUTED,
                 anchor="end")
        y += row_h
        for m in p.milestones:
            name = ("★ " if m.customer_facing else "") + m.milestone.name
            svg.text(12, y + row_h - 4, fit(name, label_w - 16, size), size=size)
            stroke = COLOURS[STATE_COLOUR.get(m.state, "grey")][1]
            cy = y + row_h / 2
            xd, xa = x_of(m.milestone.due), x_of(m.actual)
            pushed = m.driver is not None and m.actual > m.milestone.due
            if m.actual != m.milestone.due:
                svg.line(xd, cy, xa, cy, stroke, 1.4 if pushed else 1,
                         dash="0.8 1.6" if pushed else "2 2")
            svg.diamond(xd, cy, 4.2, "#ffffff", MUTED)
            svg.diamond(xa, cy, 4.2, stroke, stroke)
            placed[m.milestone.id] = (xa, cy)
            if pushed and m.driver is not None:
                note = tr.label("chart.through", driver=names.get(m.driver, m.driver))
                room = plot_x + plot_w - xa - 8
                if room >= 60:
                    svg.text(xa + 7, cy + 3, fit(note, room, 7.5), size=7.5, fill=MUTED)
                else:
                    svg.text(xd - 7, cy + 3, fit(note, min(110.0, xd - plot_x - 8), 7.5),
                             size=7.5, fill=MUTED, anchor="end")
                fx, fy = placed.get(m.driver, (xd, cy))
                # A driver drawn above (earlier in the schedule) and to the left, with the row
                # free of a note on that side.
                if room >= 60 and fx < xd - 4.2:
                    svg.line(fx, fy + 4.2, fx, cy, MUTED, 0.6, dash="1 1.5")
                    svg.line(fx, cy, xd - 4.2, cy, MUTED, 0.6, dash="1 1.5")
            svg.text(WIDTH - 4, y + row_h - 4, _milestone_note(m, tr), size=9, fill=stroke,
                     anchor="end")
            y += row_h
    tx = x_of(as_of)
    svg.line(tx, top - 4, tx, top + rows * row_h, "#b3261e", 1.2, dash="4 2")
    svg.text(tx, top + rows * row_h + 9, tr.label("chart.today", date=tr.date(as_of, "short")),
             size=9, fill="#b3261e", anchor="middle")
    # Legend: every mark explained in words.
    lx = 4.0
    svg.diamond(lx + 4, legend_y, 4, "#ffffff", MUTED)
    svg.text(lx + 12, legend_y + 3, tr.label("chart.baseline"), size=9, fill=MUTED)
    lx += 16 + text_width(tr.label("chart.baseline"), 9) + 12
    svg.diamond(lx + 4, legend_y, 4, COLOURS["amber"][1], COLOURS["amber"][1])
    svg.text(lx + 12, legend_y + 3, tr.label("chart.forecast"), size=9, fill=MUTED)
    lx += 16 + text_width(tr.label("chart.forecast"), 9) + 12
    svg.text(lx, legend_y + 3, "★ " + tr.label("chart.customer_facing"), size=9, fill=MUTED)
    lx += text_width("★ " + tr.label("chart.customer_facing"), 9) + 14
    svg.rect(lx, legend_y - 4, 14, 8, accent, accent, rx=1.5)
    svg.text(lx + 18, legend_y + 3, tr.label("chart.phase_progress"), size=9, fill=MUTED)
    if any(m.driver for p in phases for m in p.milestones):
        lx += 18 + text_width(tr.label("chart.phase_progress"), 9) + 14
        svg.line(lx, legend_y, lx + 14, legend_y, MUTED, 1.4, dash="0.8 1.6")
        svg.text(lx + 18, legend_y + 3, tr.label("chart.pushed"), size=9, fill=MUTED)
    return svg.render()


def heatmap(heat: HeatMap, numbers: dict[str, str], tr: Translator,
            alt: str | None = None) -> str:
    """The 5×5 likelihood × impact grid of open risks, each cell with its score and the numbers
    of the risks in it, and a legend naming each level."""
    cell, left, top = 48.0, 40.0, 8.0
    grid = cell * 5
    width = left + grid + 170
    height = top + grid + 40
    svg = _Svg(width, height, alt or tr.label("chart.heatmap"), tr.locale)
    for li in range(5, 0, -1):
        y = top + (5 - li) * cell
        svg.text(left - 6, y + cell / 2 + 3, str(li), size=9.5, fill=MUTED, anchor="end")
        for im in range(1, 6):
            x = left + (im - 1) * cell
            level = heat.level(li, im)
            fill, stroke = COLOURS[level]
            svg.rect(x, y, cell, cell, fill, "#ffffff")
            svg.text(x + cell - 3, y + 9, str(li * im), size=8, fill=MUTED, anchor="end")
            ids = heat.cells[li - 1][im - 1]
            labels = [numbers.get(i, i) for i in ids]
            lines = _chunks(labels, 3)[:3]
            for k, chunk in enumerate(lines):
                # Centre the block of lines (up to three, three numbers each) in the cell.
                ty = y + cell / 2 + 4 + (k - (len(lines) - 1) / 2) * 11
                svg.text(x + cell / 2, ty, " ".join(chunk), size=9.5, fill=INK, anchor="middle",
                         bold=True)
    for im in range(1, 6):
        svg.text(left + (im - 0.5) * cell, top + grid + 11, str(im), size=9.5, fill=MUTED,
                 anchor="middle")
    svg.text(left + grid / 2, top + grid + 24, tr.label("chart.impact"), size=9.5, fill=MUTED,
             anchor="middle")
    svg.text(left - 24, top + grid / 2, tr.label("chart.likelihood"), size=9.5, fill=MUTED,
             anchor="middle", vertical=True)
    lx, ly = left + grid + 16, top + 6
    for level in ("critical", "high", "medium", "low"):
        fill, stroke = COLOURS[level]
        svg.rect(lx, ly, 14, 14, fill, stroke)
        svg.text(lx + 20, ly + 10.5, tr.label(f"risk_level.{level}"), size=10)
        svg.text(lx + 20, ly + 21, tr.label(f"risk_range.{level}"), size=8.5, fill=MUTED)
        ly += 30
    return svg.render()


def _chunks(items: Sequence[str], n: int) -> list[list[str]]:
    return [list(items[i : i + n]) for i in range(0, len(items), n)]


def goal_bars(goals: Sequence[GoalFacts], tr: Translator, alt: str | None = None) -> str:
    """One bar per goal: progress from baseline to target, a tick at the progress expected by
    now, and the state in words."""
    label_w, bar_w, row_h, top = 260.0, 240.0, 29.0, 4.0
    svg = _Svg(WIDTH, top + row_h * len(goals) + 4, alt or tr.label("chart.goals"), tr.locale)
    bx = label_w
    for i, g in enumerate(goals):
        y = top + i * row_h
        svg.text(0, y + 11, fit(g.goal.title, label_w - 10, 10), size=10)
        current = tr.measure(g.actual, g.goal.unit)
        target = tr.measure(g.goal.target, g.goal.unit)
        svg.text(0, y + 23, fit(tr.label("chart.goal_values", actual=current, target=target),
                                label_w - 10, 8.5), size=8.5, fill=MUTED)
        colour = STATE_COLOUR.get(g.state, "grey")
        stroke = COLOURS[colour][1]
        svg.rect(bx, y + 5, bar_w, 14, "#f1f3f5", GRID, rx=2)
        if g.progress is not None:
            svg.rect(bx, y + 5, bar_w * min(max(g.progress, 0.0), 1.0), 14, BAR[colour], stroke,
                     rx=2)
        ex = bx + bar_w * min(max(g.expected, 0.0), 1.0)
        svg.line(ex, y + 2, ex, y + 22, INK, 1.5)
        progress = tr.percent(g.progress) if g.progress is not None else tr.label("common.none")
        svg.text(bx + bar_w + 8, y + 11, progress, size=10, bold=True)
        if g.state == "waiting" and g.measure_from is not None:
            state = tr.label("goal.measured_from", date=tr.date(g.measure_from))
        elif g.state == "stale" and g.actual_week is not None:
            state = tr.label("goal_state.stale") + " · " + g.actual_week
        else:
            state = (tr.label(f"goal_state.{g.state}") + " · "
                     + tr.label("chart.expected", value=tr.percent(g.expected)))
        svg.text(bx + bar_w + 8, y + 23, state, size=8.5, fill=stroke)
    return svg.render()


@dataclass(frozen=True)
class HealthWeek:
    """One week of the health history: what the team reported, None without an update."""

    week: str
    reported: str | None


def health_strip(weeks: Sequence[HealthWeek], tr: Translator, alt: str | None = None) -> str:
    """Health week by week: one cell per ISO week, coloured and lettered with the health the
    team reported in that week's update, "–" where there was none."""
    label_w, top, cell_h = 0.0, 4.0, 18.0
    n = max(len(weeks), 1)
    cell = min(40.0, (WIDTH - label_w) / n)
    # Week labels need about 24 px; on long projects only every k-th week is labelled.
    every = max(1, round(24 / cell + 0.49))
    svg = _Svg(WIDTH, top + cell_h + 16, alt or tr.label("chart.health"), tr.locale)
    for i, w in enumerate(weeks):
        x = label_w + i * cell
        fill, stroke = COLOURS[w.reported or "grey"]
        if w.reported is None:
            fill, stroke = "#ffffff", GRID
        svg.rect(x + 1, top, cell - 2, cell_h, fill, stroke, rx=2)
        short = tr.label(f"health_short.{w.reported}") if w.reported else "–"
        svg.text(x + cell / 2, top + 12.5, short, size=9.5,
                 fill=stroke if w.reported else MUTED, anchor="middle", bold=bool(w.reported))
        if i % every == 0:
            svg.text(x + cell / 2, top + cell_h + 11, w.week[-3:], size=8, fill=MUTED,
                     anchor="middle")
    return svg.render()


def variance(milestones: Sequence[MilestoneFacts], tr: Translator,
             alt: str | None = None) -> str:
    """Each milestone's variance in days, actual against baseline: early to the left, late to
    the right, with the day count written beside each bar."""
    label_w, row_h, top, note_w = 250.0, 17.0, 20.0, 70.0
    plot_w = WIDTH - label_w - note_w
    worst = max([abs(m.variance_days) for m in milestones] + [5])
    scale = (plot_w / 2) / worst
    zero = label_w + plot_w / 2
    height = top + row_h * len(milestones) + 8
    svg = _Svg(WIDTH, height, alt or tr.label("chart.variance"), tr.locale)
    svg.text(zero - 4, top - 6, "← " + tr.label("chart.early"), size=9, fill=MUTED,
             anchor="end")
    svg.text(zero + 4, top - 6, tr.label("chart.late") + " →", size=9, fill=MUTED)
    for i, m in enumerate(milestones):
        y = top + i * row_h
        if i % 2 == 0:
            svg.rect(0, y, WIDTH, row_h, "#f7f8fa")
        name = ("★ " if m.customer_facing else "") + m.milestone.name
        svg.text(4, y + row_h - 4, fit(name, label_w - 10, 9.5), size=9.5)
        v = m.variance_days
        colour = "green" if v <= 0 else "amber" if v <= 14 else "red"
        fill, stroke = COLOURS[colour]
        x = zero if v >= 0 else zero + v * scale
        svg.rect(x, y + 3, abs(v) * scale, row_h - 6, fill, stroke)
        note = tr.days(v) if v else tr.label("chart.on_time")
        svg.text(WIDTH - 4, y + row_h - 4, note, size=9, fill=stroke, anchor="end")
    svg.line(zero, top - 2, zero, top + row_h * len(milestones), INK, 1)
    return svg.render()


#: The sparkline's rows: the better the health, the higher the point.
_SPARK_Y = {"green": 4.0, "amber": 11.0, "red": 18.0}


def sparkline(levels: Sequence[str], title: str, step: float = 12.0) -> str:
    """Computed health week by week as a small line with a coloured dot per week (the
    dashboard's trend, a thousand on one page: one path per colour, not one element per dot);
    ``title`` is its text alternative. For inline HTML, so without a namespace."""
    points = [(4 + i * step, _SPARK_Y.get(level, 11.0)) for i, level in enumerate(levels)]
    width = 8 + step * max(len(levels) - 1, 0)
    line = "".join(f"{'M' if i == 0 else 'L'}{_x(x)} {_x(y)}" for i, (x, y) in enumerate(points))
    dots = ""
    for level in (lv for lv in _SPARK_Y if lv in levels):
        at = "".join(f"M{_x(x)} {_x(y)}h0" for (x, y), lv in zip(points, levels, strict=True)
                     if lv == level)
        dots += f'<path d="{at}" stroke="{COLOURS[level][1]}"/>'
    return (f'<svg class="spark" width="{_x(width)}" height="22" fill="none" role="img"><title>'
            f'{escape(title)}</title><path d="{line}" stroke="{GRID}" stroke-width="1.5"/>'
            f'<g stroke-width="6" stroke-linecap="round">{dots}</g></svg>')
