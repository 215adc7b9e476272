"""The HTML report: one self-contained file (inline CSS and SVG, no script, no network) that prints well.

Every chart has a text alternative (its SVG title and description) and a table of the same numbers behind it.
Residents never appear: the report shows officers, teams, units and villages only.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from html import escape

from community_policing.overview.figures import STALE_DAYS, DayCell, GroupRow, OfficerRow, Overview, Tally
from community_policing.overview.svg import bars, calendar, weekly_grid
from community_policing.overview.terminal import percent
from community_policing.rules.engine import Status

__all__ = ["html_parts", "render_html"]

STYLE = """
:root { --ink: #1f2328; --muted: #59636e; --line: #d1d9e0; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", sans-serif; color: var(--ink);
       margin: 0 auto; max-width: 1180px; padding: 24px; }
h1 { font-size: 26px; margin: 0 0 4px; }
h2 { font-size: 20px; margin: 36px 0 6px; border-bottom: 1px solid var(--line); }
h3 { font-size: 16px; margin: 20px 0 6px; }
p.lead, .muted { color: var(--muted); }
dl.figures { display: flex; flex-wrap: wrap; gap: 12px; margin: 16px 0; }
dl.figures div { border: 1px solid var(--line); border-radius: 6px; padding: 8px 14px; min-width: 130px; }
dl.figures dt { color: var(--muted); font-size: 12px; } dl.figures dd { margin: 0; font-size: 22px; font-weight: 600; }
table { border-collapse: collapse; margin: 8px 0 16px; font-variant-numeric: tabular-nums; }
th, td { border-bottom: 1px solid var(--line); padding: 3px 8px; text-align: left; vertical-align: top; }
th { font-weight: 600; background: #f6f8fa; } td.n, th.n { text-align: right; }
tr.stale td { background: #fff1f0; }
caption { text-align: left; font-weight: 600; padding: 4px 0; }
details { margin: 4px 0 12px; } summary { cursor: pointer; color: #0550ae; }
figure { margin: 8px 0; } figcaption { font-size: 13px; }
.chart, .scroll { overflow-x: auto; max-width: 100%; }
.officers { display: flex; flex-wrap: wrap; gap: 6px 18px; }
.officer { break-inside: avoid; page-break-inside: avoid; }
.officer figcaption { max-width: 220px; }
.legend { display: flex; flex-wrap: wrap; gap: 10px; font-size: 12px; color: var(--muted); align-items: center; }
.swatch { display: inline-block; width: 11px; height: 11px; vertical-align: -1px; margin-right: 3px; }
svg.calendar rect { width: 11px; height: 11px; }
svg text { font: 10px system-ui, sans-serif; fill: var(--ink); }
svg text.label { font-size: 11px; } svg text.value { font-size: 10px; }
svg text.axis { fill: var(--muted); }
.f1 { fill: #9be9a8; background: #9be9a8; } .f2 { fill: #40c463; background: #40c463; }
.f3 { fill: #30a14e; background: #30a14e; } .f4 { fill: #216e39; background: #216e39; }
.missed { fill: #ffebe9; stroke: #cf222e; stroke-width: 1.5; background: #ffebe9; outline: 1.5px solid #cf222e; }
.excused { fill: #d0d7de; background: #d0d7de; }
.pending { fill: #fff8c5; stroke: #bf8700; stroke-width: 1.5; background: #fff8c5; outline: 1.5px solid #bf8700; }
.c0 { fill: #b42318; background: #b42318; } .c1 { fill: #f4a261; background: #f4a261; }
.c2 { fill: #fee08b; background: #fee08b; } .c3 { fill: #a6d96a; background: #a6d96a; }
.c4 { fill: #1a7f37; background: #1a7f37; } .c-none { fill: #eaeef2; background: #eaeef2; }
svg text.on-dark { fill: #ffffff; }
rect.open { stroke: #1f2328; stroke-width: 1.5; stroke-dasharray: 3 2; }
.swatch.open { outline: 1.5px dashed #1f2328; background: #ffffff; }
.bar { fill: #cf222e; }
@media print {
  body { max-width: none; padding: 0; font-size: 11px; }
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  h2 { break-after: avoid; } figure, table { break-inside: avoid; }
  details > summary { display: none; }
}
"""


def _cell(value: object, *, numeric: bool = False, css: str = "") -> str:
    classes = " ".join(c for c in ("n" if numeric else "", css) if c)
    attribute = f' class="{classes}"' if classes else ""
    return f"<td{attribute}>{escape(str(value))}</td>"


def _row(cells: Iterable[str], css: str = "") -> str:
    attribute = f' class="{css}"' if css else ""
    return f"<tr{attribute}>{''.join(cells)}</tr>"


def _head(*names: str, numeric_from: int = 99) -> str:
    return (
        "<tr>"
        + "".join(
            f'<th scope="col"{" class=n" if n >= numeric_from else ""}>{escape(name)}</th>'
            for n, name in enumerate(names)
        )
        + "</tr>"
    )


def _swatch(css: str, label: str) -> str:
    return f'<span><span class="swatch {css}"></span>{escape(label)}</span>'


def _tally_cells(tally: Tally) -> list[str]:
    return [
        _cell(tally.met, numeric=True),
        _cell(tally.missed, numeric=True),
        _cell(tally.pending, numeric=True),
        _cell(tally.excused, numeric=True),
        _cell(percent(tally.compliance), numeric=True),
    ]


def _groups_section(
    kind: str, heading: str, rows: Sequence[GroupRow], overview: Overview, *, total: Tally | None, note: str
) -> str:
    weeks = overview.weeks
    chart_rows = [(f"{r.name}" if kind == "polsek" else f"{r.name} ({r.unit})", r.weekly) for r in rows]
    if total is not None:
        weekly = tuple(Tally(**_sum_weekly(rows, n)) for n in range(len(weeks)))
        chart_rows.insert(0, ("All officers", weekly))
    worst = min(
        (r for r in rows if r.tally.compliance is not None), key=lambda r: r.tally.compliance or 0.0, default=None
    )
    desc = f"Weekly compliance (met days over closed duty days) for {len(rows)} {kind}s over {len(weeks)} weeks."
    if worst is not None:
        desc += f" Lowest over the period: {worst.name}, {percent(worst.tally.compliance)}."
    chart = weekly_grid(f"{kind}-weekly", chart_rows, weeks=weeks, title=heading, desc=desc)
    header = ["Team", "Polsek"] if kind == "team" else ["Polsek"]
    head = _head(*header, "officers", "met", "missed", "pending", "excused", "compliance",
                 *(f"week of {w.strftime('%d %b')}" for w in weeks), numeric_from=len(header))  # fmt: skip
    body = []
    for row in rows:
        names = [_cell(row.name), _cell(row.unit)] if kind == "team" else [_cell(row.name)]
        weekly_cells = [_cell(percent(t.compliance), numeric=True) for t in row.weekly]
        body.append(_row([*names, _cell(row.officers, numeric=True), *_tally_cells(row.tally), *weekly_cells]))
    table = (
        f'<div class="scroll"><table id="{kind}-compliance"><caption>{escape(heading)}: the numbers</caption>'
        f"<thead>{head}</thead><tbody>{''.join(body)}</tbody></table></div>"
    )
    return (
        f'<section id="{kind}s"><h2>{escape(heading)}</h2><p class="muted">{escape(note)}</p>'
        f'<figure class="chart">{chart}</figure>{_compliance_legend()}'
        f"<details><summary>Table of these numbers</summary>{table}</details></section>"
    )


def _sum_weekly(rows: Sequence[GroupRow], week: int) -> dict[str, int]:
    totals: dict[str, int] = defaultdict(int)
    for row in rows:
        tally = row.weekly[week]
        for field in ("met", "missed", "pending", "excused"):
            totals[field] += getattr(tally, field)
    return dict(totals)


def _compliance_legend() -> str:
    steps = [("c0", "below 60%"), ("c1", "60-75%"), ("c2", "75-90%"), ("c3", "90-95%"), ("c4", "95% and more")]
    return (
        '<div class="legend">Compliance: '
        + "".join(_swatch(css, label) for css, label in steps)
        + _swatch("c-none", "no closed duty day")
        + _swatch("open", "a week with days still pending: compliance so far")
        + "</div>"
    )


def _calendar_legend() -> str:
    return (
        '<div class="legend">'
        + _swatch("f1", "met, 1 new friend")
        + _swatch("f2", "2")
        + _swatch("f3", "3")
        + _swatch("f4", "4 or more")
        + _swatch("missed", "missed")
        + _swatch("pending", "pending (not closed yet)")
        + _swatch("excused", "excused (leave, sick, training, duty, day off, public holiday)")
        + "</div>"
    )


def _officer_table(row: OfficerRow) -> str:
    weeks: dict[dt.date, list[DayCell | None]] = {}
    for cell in row.days:
        monday = cell.day - dt.timedelta(days=cell.day.weekday())
        weeks.setdefault(monday, [None] * 7)[cell.day.weekday()] = cell
    body = []
    for monday in sorted(weeks):
        cells = [f'<th scope="row">{monday.isoformat()}</th>']
        for day in weeks[monday]:
            if day is None:
                cells.append("<td></td>")
            else:
                cells.append(f'<td class="n">{day.new_friends} {_status_mark(day.status)}</td>')
        body.append(_row(cells))
    head = _head("week of", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun", numeric_from=1)
    return (
        f'<table id="days-{escape(row.nrp)}"><caption>New friends per day, {escape(row.name)} '
        "(✓ met, ✗ missed, … pending, · excused)"
        f"</caption><thead>{head}</thead><tbody>{''.join(body)}</tbody></table>"
    )


def _status_mark(status: Status) -> str:
    return {Status.MET: "✓", Status.MISSED: "✗", Status.PENDING: "…", Status.EXCUSED: "·"}[status]


def _officers_section(overview: Overview) -> Iterator[str]:
    """The calendars, one officer's figure at a time (most of a long report), then the table of every officer."""
    by_unit: dict[str, list[OfficerRow]] = defaultdict(list)
    for row in overview.officers:
        by_unit[row.unit].append(row)
    yield (
        '<section id="calendars"><h2>New friends per day, officer by officer</h2>'
        '<p class="muted">One square per day on which the officer served, weeks in columns with Monday on top, '
        "coloured by the day's status and, on met days, by the number of new friends the rule counted.</p>"
    )
    yield _calendar_legend()
    for unit in sorted(by_unit):
        yield f"<h3>{escape(unit)}</h3><div class=officers>"
        for row in by_unit[unit]:
            s = row.summary
            met_days = sum(1 for c in row.days if c.status is Status.MET)
            desc = (
                f"{s.new_friends} new friends over {len(row.days)} days; {met_days} met, {s.missed} missed, "
                f"{s.pending} pending, {s.excused} excused; compliance {percent(s.compliance)}; "
                f"longest streak {s.longest_streak} days."
            )
            chart = calendar(
                f"cal-{row.nrp}",
                row.days,
                start=overview.start,
                end=overview.end,
                title=f"New friends per day: {row.rank} {row.name} ({row.nrp})",
                desc=desc,
                holidays=overview.holidays,
            )
            yield (
                f'<figure class="officer">{chart}<figcaption><strong>{escape(row.rank)} {escape(row.name)}</strong> '
                f"{escape(row.nrp)}<br>{escape(percent(s.compliance))} · {s.new_friends} new friends · "
                f"best streak {s.longest_streak}<details><summary>Table</summary>{_officer_table(row)}"
                "</details></figcaption></figure>"
            )
        yield "</div>"
    head = _head("Officer", "rank", "NRP", "unit", "met", "missed", "pending", "excused", "compliance",
                 "current streak", "longest streak", "new friends", numeric_from=4)  # fmt: skip
    body = []
    for row in sorted(overview.officers, key=lambda r: (r.unit, r.name, r.nrp)):
        s = row.summary
        body.append(
            _row(
                [
                    _cell(row.name),
                    _cell(row.rank),
                    _cell(row.nrp),
                    _cell(row.unit),
                    *_tally_cells(Tally(met=s.met, missed=s.missed, pending=s.pending, excused=s.excused)),
                    _cell(s.current_streak, numeric=True),
                    _cell(s.longest_streak, numeric=True),
                    _cell(s.new_friends, numeric=True),
                ]
            )
        )
    yield (
        '<details><summary>Every officer in one table</summary><div class="scroll"><table id="officer-summaries">'
        f"<caption>Officers under {escape(overview.officer_rule or '-')}</caption>"
        f"<thead>{head}</thead><tbody>{''.join(body)}</tbody></table></div></details></section>"
    )


def _villages_section(overview: Overview) -> str:
    if not overview.villages:
        return (
            '<section id="coverage"><h2>Coverage of villages</h2><p class="muted">No village to show: the report'
            " lists the villages stored, and for some units the villages their teams are placed in.</p></section>"
        )
    stale = overview.stale_villages()
    rows = sorted(overview.villages, key=lambda v: (-(v.days_since if v.days_since is not None else 10**6), v.code))
    head = _head("Village", "district", "code", "teams", "last visit", "days since", numeric_from=5)
    body = []
    for village in rows:
        body.append(
            _row(
                [
                    _cell(village.name),
                    _cell(village.district),
                    _cell(village.code),
                    _cell(", ".join(village.teams) or "no team"),
                    _cell(village.last_visit.isoformat() if village.last_visit else "never"),
                    _cell("never" if village.days_since is None else village.days_since, numeric=True),
                ],
                css="stale" if village.stale else "",
            )
        )
    return (
        f'<section id="coverage"><h2>Coverage of villages</h2><p class="muted">Days from the last visit (any '
        f"interaction recorded by the as-of instant) to {overview.end}. {len(stale)} of {len(overview.villages)} "
        f"villages have not been visited for {STALE_DAYS} days or more (highlighted).</p>"
        f'<div class="scroll"><table id="village-coverage"><caption>Villages, longest without a visit first</caption>'
        f"<thead>{head}</thead><tbody>{''.join(body)}</tbody></table></div></section>"
    )


def _week_section(overview: Overview) -> str:
    days = overview.last_week
    rows = [r for r in overview.week_missed if r.total]
    chart = bars(
        "week-missed",
        [(f"{r.name} ({r.unit})", r.total) for r in rows],
        title=f"Missed days per team, {days[0]} to {days[-1]}" if days else "Missed days per team",
        desc=(
            f"{sum(r.total for r in rows)} missed officer-days in {len(rows)} of {len(overview.week_missed)} teams "
            "over the last seven days of the period; teams with none are left out."
        ),
        noun="day",
    )
    head = _head("Team", "Polsek", *(d.strftime("%a %d %b") for d in days), "total", numeric_from=2)
    body = [
        _row([_cell(r.name), _cell(r.unit), *(_cell(n, numeric=True) for n in r.missed), _cell(r.total, numeric=True)])
        for r in overview.week_missed
    ]
    return (
        '<section id="week"><h2>The week\'s missed days per team</h2><p class="muted">Missed days of the team\'s '
        "members (under the officer rule) on each of the last seven days of the period.</p>"
        f'<figure class="chart">{chart}</figure><details><summary>Table of these numbers</summary>'
        f'<div class="scroll"><table id="week-missed-table"><caption>Missed days per team and day</caption>'
        f"<thead>{head}</thead><tbody>{''.join(body)}</tbody></table></div></details></section>"
    )


def render_html(overview: Overview) -> str:
    """The whole report as one HTML document: `html_parts` joined."""
    return "".join(html_parts(overview))


def html_parts(overview: Overview) -> Iterator[str]:
    """The HTML report in pieces, in order, made as they are taken: write them one at a time and the page is
    never held whole (the calendars of a thousand officers over a year make 44 MB of it)."""
    total = overview.total
    figures = [
        ("Compliance", percent(total.compliance)),
        ("Officers", f"{len(overview.officers):,}"),
        ("New friends", f"{overview.new_friends:,}"),
        ("Met days", f"{total.met:,}"),
        ("Missed days", f"{total.missed:,}"),
        ("Pending days", f"{total.pending:,}"),
        ("Excused days", f"{total.excused:,}"),
    ]
    holidays = ", ".join(f"{day} {name}" for day, name in sorted(overview.holidays.items())) or "none"
    team_note = (
        f"Team days under rule {overview.team_rule}."
        if overview.team_rule
        else "No team rule was evaluated: a team's compliance is that of its members' days under the officer rule."
    )
    yield (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(overview.title)}: report {overview.start} to {overview.end}</title>"
        f"<style>{STYLE}</style></head><body>"
    )
    yield (
        f"<header><h1>{escape(overview.title)}: Tiada Hari Tanpa Teman Baru</h1>"
        f'<p class="lead">From {overview.start} to {overview.end}, as of {escape(overview.as_of.isoformat())}; '
        f"officer rule {escape(overview.officer_rule or '-')}. Every figure is computed by the rule engine from "
        f"the stored records. Public holidays in the period: {escape(holidays)}.</p>"
        '<dl class="figures" id="key-figures">'
        + "".join(f"<div><dt>{escape(k)}</dt><dd>{escape(v)}</dd></div>" for k, v in figures)
        + "</dl></header>"
    )
    yield _groups_section(
        "polsek",
        "Compliance per Polsek, week by week",
        overview.polseks,
        overview,
        total=overview.total,
        note="Met days over closed duty days of the unit's officers, for each week (weeks start on Monday).",
    )
    yield _groups_section(
        "team", "Compliance per team, week by week", overview.teams, overview, total=None, note=team_note
    )
    yield _week_section(overview)
    yield _villages_section(overview)
    yield from _officers_section(overview)
    yield "</body></html>\n"
