"""The terminal summary a commander reads in ten seconds: colours on a terminal, plain text when piped (rich)."""

from __future__ import annotations

from collections.abc import Sequence

from rich import box
from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

from community_policing.overview.figures import STALE_DAYS, GroupRow, Overview, Tally

__all__ = ["print_summary", "summary"]

GOOD, FAIR = 0.9, 0.75
"""Compliance from `GOOD` up is green, from `FAIR` up yellow, below it red."""
TEAMS_SHOWN = 5
VILLAGES_SHOWN = 8


def percent(value: float | None) -> str:
    """``86.9%``, or ``-`` when there is nothing to divide."""
    return "-" if value is None else f"{value * 100:.1f}%"


def _style(value: float | None) -> str:
    if value is None:
        return "dim"
    return "green" if value >= GOOD else "yellow" if value >= FAIR else "bold red"


def _compliance(tally: Tally) -> Text:
    return Text(percent(tally.compliance), style=_style(tally.compliance))


def _bar(value: float | None, width: int = 12) -> Text:
    if value is None:
        return Text("")
    filled = round(value * width)
    return Text("█" * filled + "·" * (width - filled), style=_style(value))


def _table(title: str, *columns: str, numeric: Sequence[int] = ()) -> Table:
    table = Table(title=title, title_justify="left", title_style="bold", box=box.SIMPLE_HEAD, pad_edge=False)
    for n, column in enumerate(columns):
        # Numbers are never cut; names are shortened with an ellipsis when the terminal is narrow.
        table.add_column(
            column,
            justify="right" if n in numeric else "left",
            no_wrap=True,
            overflow="ellipsis" if n not in numeric else "fold",
            min_width=len(column) if n in numeric else None,
        )
    return table


def _groups(title: str, rows: Sequence[GroupRow], *, with_unit: bool) -> Table:
    # Teams carry their Polsek's name instead of a bar, so that both tables fit in 80 columns.
    if with_unit:
        table = _table(title, "", "Polsek", "met", "missed", "compliance", numeric=range(2, 5))
    else:
        table = _table(title, "", "met", "missed", "compliance", "", numeric=range(1, 4))
    for row in rows:
        cells: list[RenderableType] = [row.name, row.unit] if with_unit else [row.name]
        cells += [str(row.tally.met), str(row.tally.missed), _compliance(row.tally)]
        if not with_unit:
            cells.append(_bar(row.tally.compliance))
        table.add_row(*cells)
    return table


def summary(overview: Overview, *, report: str | None = None) -> RenderableType:
    """The summary as one rich renderable (print it with any `Console`); `report` names the HTML report, if any."""
    total = overview.total
    head = Text()
    head.append(f"{overview.title}: Tiada Hari Tanpa Teman Baru\n", style="bold")
    head.append(f"{overview.start} to {overview.end}, rule {overview.officer_rule or '-'}\n")
    head.append(f"as of {overview.as_of.isoformat()}", style="dim")
    figures = Text()
    figures.append("Compliance ")
    figures.append(percent(total.compliance), style=_style(total.compliance) + " bold")
    figures.append(f"   {len(overview.officers)} officers   {overview.new_friends:,} new friends\n")
    figures.append(f"{total.met:,} met days   ")
    figures.append(f"{total.missed:,} missed", style="red" if total.missed else "")
    figures.append(f"   {total.pending:,} pending   {total.excused:,} excused")
    parts: list[RenderableType] = [head, figures, Text("")]

    polseks = sorted(overview.polseks, key=lambda r: (r.tally.compliance or 0.0, r.name))
    parts.append(_groups("Compliance per Polsek, lowest first", polseks, with_unit=False))
    if overview.teams:
        teams = sorted(overview.teams, key=lambda r: (r.tally.compliance or 0.0, r.name))[:TEAMS_SHOWN]
        how = f"rule {overview.team_rule}" if overview.team_rule else "their members' days"
        parts.append(
            _groups(
                f"Teams: the {len(teams)} lowest of {len(overview.teams)} ({how})",
                teams,
                with_unit=True,
            )
        )

    streaks = _table("Longest streaks", "officer", "rank", "unit", "days", numeric=[3])
    for row in overview.longest_streaks():
        streaks.add_row(row.name, row.rank, row.unit, Text(str(row.summary.longest_streak), style="green"))
    missed = _table("Most missed days", "officer", "rank", "unit", "missed", numeric=[3])
    for row in overview.most_missed():
        missed.add_row(row.name, row.rank, row.unit, Text(str(row.summary.missed), style="red"))
    parts += [streaks, missed]

    stale = overview.stale_villages()
    villages = Text()
    villages.append(f"Villages not visited for {STALE_DAYS} days or more: ", style="bold")
    villages.append(f"{len(stale)} of {len(overview.villages)}", style="red" if stale else "green")
    for village in stale[:VILLAGES_SHOWN]:
        since = "never visited" if village.days_since is None else f"{village.days_since} days"
        villages.append(f"\n  {village.name} ({village.district}): {since}")
    if len(stale) > VILLAGES_SHOWN:
        villages.append(f"\n  and {len(stale) - VILLAGES_SHOWN} more")
    parts += [villages, Text("")]

    pending = Text()
    pending.append("Days still pending: ", style="bold")
    if overview.pending:
        pending.append(", ".join(f"{day}: {count} officers" for day, count in overview.pending), style="yellow")
        pending.append("\n  (not closed yet: contacts recorded before the close still count)")
    else:
        pending.append("none")
    parts.append(pending)
    if report:
        parts += [Text(""), Text.assemble(("Report: ", "bold"), report)]
    return Group(*parts)


def print_summary(overview: Overview, console: Console | None = None, *, report: str | None = None) -> None:
    """Print the summary: on a terminal with colours, piped as plain text (rich decides from the console)."""
    (console or Console()).print(summary(overview, report=report))
