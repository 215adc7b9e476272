"""The report's charts as small inline SVG: a contributions-style calendar, a weekly grid and horizontal bars.

Each chart is an ``<svg role="img">`` with a ``<title>`` and a ``<desc>`` that say in words what it shows; the
report puts a table of the same numbers behind each one. Colours come from classes the page's stylesheet defines,
so print and screen share them. Hand-written rather than a charting library: see docs/decisions.md.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from html import escape

from community_policing.overview.figures import DayCell, Tally
from community_policing.rules.engine import Status

__all__ = ["bars", "calendar", "compliance_class", "friends_class", "weekly_grid"]

CELL, GAP = 11, 2
STEP = CELL + GAP
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def label_width(labels: Sequence[str], *, least: int = 80, most: int = 480) -> int:
    """Room for the longest of `labels` at the charts' 11 px font (about 6.4 px a character), within bounds."""
    longest = max((len(label) for label in labels), default=0)
    return max(least, min(most, round(longest * 6.4) + 12))


def _open(chart_id: str, width: int, height: int, title: str, desc: str, css: str = "graph") -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="{css}" role="img" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" aria-labelledby="{chart_id}-t {chart_id}-d">'
        f'<title id="{chart_id}-t">{escape(title)}</title><desc id="{chart_id}-d">{escape(desc)}</desc>'
    )


def friends_class(cell: DayCell) -> str:
    """The CSS class of a calendar day: by status, and for met days by the number of new friends (1 to 4+)."""
    if cell.status is Status.MET:
        return f"f{min(cell.new_friends, 4)}"
    return {Status.MISSED: "missed", Status.EXCUSED: "excused", Status.PENDING: "pending"}[cell.status]


def compliance_class(value: float | None) -> str:
    """The CSS class of a compliance figure: five steps from red (below 60%) to green (95% and more)."""
    if value is None:
        return "c-none"
    for step, bound in enumerate((0.6, 0.75, 0.9, 0.95)):
        if value < bound:
            return f"c{step}"
    return "c4"


def day_label(cell: DayCell, holidays: Mapping[dt.date, str]) -> str:
    """A day in words: ``2023-08-17 excused (public_holiday: Independence Day), 0 new friends``."""
    reason = cell.reason or ""
    if cell.day in holidays and reason == "public_holiday":
        reason = f"{reason}: {holidays[cell.day]}"
    reason = f" ({reason})" if reason else ""
    friends = "1 new friend" if cell.new_friends == 1 else f"{cell.new_friends} new friends"
    return f"{cell.day.isoformat()} {cell.status.value}{reason}, {friends}"


def calendar(
    chart_id: str,
    cells: Sequence[DayCell],
    *,
    start: dt.date,
    end: dt.date,
    title: str,
    desc: str,
    holidays: Mapping[dt.date, str],
) -> str:
    """A contributions calendar: one column per week (Monday on top), one square per active day."""
    first_monday = start - dt.timedelta(days=start.weekday())
    weeks = (end - first_monday).days // 7 + 1
    left, top = 26, 14
    width, height = left + weeks * STEP + 14, top + 7 * STEP  # room for the last month's name
    # The squares' size is in the page's stylesheet (svg.calendar rect): 27,000 squares for 300 officers.
    out = [_open(chart_id, width, height, title, desc, css="calendar")]
    for row in (0, 2, 4, 6):
        out.append(f'<text x="0" y="{top + row * STEP + CELL - 2}" class="axis">{WEEKDAYS[row]}</text>')
    month = None
    for week in range(weeks):
        monday = first_monday + dt.timedelta(days=7 * week)
        shown = max(monday, start)
        if shown.month != month and shown <= end:
            month = shown.month
            out.append(f'<text x="{left + week * STEP}" y="10" class="axis">{shown.strftime("%b")}</text>')
    for cell in cells:
        offset = (cell.day - first_monday).days
        x, y = left + offset // 7 * STEP, top + offset % 7 * STEP
        out.append(
            f'<rect x="{x}" y="{y}" class="{friends_class(cell)}">'
            f"<title>{escape(day_label(cell, holidays))}</title></rect>"
        )
    out.append("</svg>")
    return "".join(out)


def weekly_grid(
    chart_id: str,
    rows: Sequence[tuple[str, Sequence[Tally]]],
    *,
    weeks: Sequence[dt.date],
    title: str,
    desc: str,
) -> str:
    """Compliance per row and week: a coloured cell per week with the percentage written in it."""
    cell_w, cell_h, top = 44, 18, 18
    left = label_width([label for label, _ in rows])
    width, height = left + len(weeks) * cell_w, top + len(rows) * cell_h
    out = [_open(chart_id, width, height, title, desc, css="graph grid")]
    for n, week in enumerate(weeks):
        x = left + n * cell_w + cell_w / 2
        out.append(f'<text x="{x}" y="12" class="axis" text-anchor="middle">{week.strftime("%d %b")}</text>')
    for r, (label, tallies) in enumerate(rows):
        y = top + r * cell_h
        out.append(f'<text x="{left - 6}" y="{y + 13}" class="label" text-anchor="end">{escape(label)}</text>')
        for n, tally in enumerate(tallies):
            value = tally.compliance
            x = left + n * cell_w
            shown = "-" if value is None else f"{value * 100:.0f}%"
            # The darkest steps (deep red, deep green) carry white text, for contrast.
            on_dark = " on-dark" if compliance_class(value) in ("c0", "c4") else ""
            # A week with days still open shows compliance so far: outlined, and said in its title.
            pending = f", {tally.pending} pending: so far" if tally.pending else ""
            out.append(
                f'<rect x="{x}" y="{y}" width="{cell_w - 2}" height="{cell_h - 2}" class="{compliance_class(value)}'
                f'{" open" if tally.pending else ""}"><title>{escape(label)}, week of {weeks[n].isoformat()}: {shown}'
                f" ({tally.met} met, {tally.missed} missed{pending})</title></rect>"
                f'<text x="{x + (cell_w - 2) / 2}" y="{y + 12}" class="value{on_dark}" text-anchor="middle">'
                f"{shown}</text>"
            )
    out.append("</svg>")
    return "".join(out)


def bars(chart_id: str, rows: Sequence[tuple[str, int]], *, title: str, desc: str, noun: str = "") -> str:
    """Horizontal bars, one per row, in the order given; the number (and `noun`, plural but for 1) ends each bar."""
    bar_h, top, scale_w = 18, 4, 320
    most = max((value for _, value in rows), default=0) or 1
    left = label_width([label for label, _ in rows])
    width, height = left + scale_w + 60, top + len(rows) * bar_h + 4
    out = [_open(chart_id, width, height, title, desc)]
    for r, (label, value) in enumerate(rows):
        y = top + r * bar_h
        length = round(value / most * scale_w)
        out.append(
            f'<text x="{left - 6}" y="{y + 12}" class="label" text-anchor="end">{escape(label)}</text>'
            f'<rect x="{left}" y="{y + 2}" width="{length}" height="{bar_h - 6}" class="bar"/>'
            f'<text x="{left + length + 4}" y="{y + 12}" class="value">{value}{escape(_counted(noun, value))}</text>'
        )
    out.append("</svg>")
    return "".join(out)


def _counted(noun: str, value: int) -> str:
    return "" if not noun else f" {noun}" if value == 1 else f" {noun}s"
