"""The terminal summary and the HTML report, read as a person reads them, checked against the engine's evaluation."""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import tempfile
from collections import defaultdict
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rich.console import Console

from community_policing.batch import Batch
from community_policing.calendar import local_day
from community_policing.cli import main
from community_policing.cli._common import UsageError, write_output
from community_policing.demo import Demo, build_demo
from community_policing.demo.build import _write as demo_write
from community_policing.model import Interaction, InteractionKind, Officer, Rank, Territory, Unit, UnitLevel
from community_policing.overview import (
    Tally,
    html_parts,
    print_summary,
    read_overview,
    render_html,
    stream_overview,
)
from community_policing.overview.figures import last_visits
from community_policing.registry import Registry
from community_policing.rules.engine import Status, evaluate
from community_policing.rules.spec import builtin_rules, parse_rules
from community_policing.storage.memory import MemoryStore
from community_policing.storage.protocol import ReadsVisits
from community_policing.storage.sqlite import SQLiteStore
from community_policing.testing.strategies import as_of_instants, datasets

ANSI = re.compile(r"\x1b\[[0-9;]*m")


@pytest.fixture(scope="module")
def demo(registry: Registry, tmp_path_factory: pytest.TempPathFactory) -> Demo:
    return build_demo(tmp_path_factory.mktemp("demo"), registry=registry, officers=60, days=35, seed=42)


class Tables(HTMLParser):
    """The text of every table cell of a page, by table id: {id: [[cell, ...], ...]} (header rows included)."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self.figures: dict[str, str] = {}
        self._table: str | None = None
        self._cell: list[str] | None = None
        self._dt: str | None = None
        self._tag = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._tag = tag
        if tag == "table":
            self._table = dict(attrs).get("id") or f"table-{len(self.tables)}"
            self.tables[self._table] = []
        elif tag == "tr" and self._table is not None:
            self.tables[self._table].append([])
        elif tag in ("td", "th") and self._table is not None:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None and self._table is not None:
            self.tables[self._table][-1].append("".join(self._cell).strip())
            self._cell = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)
        if self._tag == "dt":
            self._dt = data
        elif self._tag == "dd" and self._dt is not None:
            self.figures[self._dt] = data
            self._dt = None

    def rows(self, table: str) -> dict[str, list[str]]:
        """The body rows of `table` by their first cell."""
        return {row[0]: row for row in self.tables[table][1:]}


def percent(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.1f}%"


def read(html: str) -> Tables:
    tables = Tables()
    tables.feed(html)
    return tables


def test_the_reports_numbers_are_the_engines(demo: Demo) -> None:
    page = read(demo.report.read_text(encoding="utf-8"))
    evaluation = demo.evaluation
    officer_rule, team_rule = "tiada-hari-tanpa-teman-baru", "tim-teman-baru"
    officers = {s.subject_id: s for s in evaluation.summaries if s.rule == officer_rule}
    teams = {s.subject_id: s for s in evaluation.summaries if s.rule == team_rule}
    assert len(officers) == 60
    assert teams

    # Every officer's row is the engine's summary.
    rows = {row[2]: row for row in page.tables["officer-summaries"][1:]}
    assert set(rows) == set(officers)
    for nrp, s in officers.items():
        expected = [s.met, s.missed, s.pending, s.excused, percent(s.compliance), s.current_streak]
        assert rows[nrp][4:12] == [str(v) for v in [*expected, s.longest_streak, s.new_friends]]

    # Every team's row is the engine's team summary.
    names = {row.id: row.name for row in demo.overview.teams}
    team_rows = page.rows("team-compliance")
    for team_id, s in teams.items():
        row = team_rows[names[team_id]]
        assert row[3:8] == [str(s.met), str(s.missed), str(s.pending), str(s.excused), percent(s.compliance)]

    # A Polsek's row adds up its officers' days, as the engine decided them.
    unit_of = {o["nrp"]: o["unit"] for o in map(json.loads, demo.dataset.lines) if o["type"] == "officer"}
    unit_names = {u["id"]: u["name"] for u in map(json.loads, demo.dataset.lines) if u["type"] == "unit"}
    met: dict[str, int] = defaultdict(int)
    missed: dict[str, int] = defaultdict(int)
    for nrp, s in officers.items():
        met[unit_names[unit_of[nrp]]] += s.met
        missed[unit_names[unit_of[nrp]]] += s.missed
    polsek_rows = page.rows("polsek-compliance")
    assert set(polsek_rows) == set(met)
    for name, row in polsek_rows.items():
        assert (row[2], row[3]) == (str(met[name]), str(missed[name]))
        assert row[6] == percent(round(met[name] / (met[name] + missed[name]), 4))

    # The key figures.
    assert page.figures["Missed days"] == f"{sum(s.missed for s in officers.values()):,}"
    assert page.figures["Pending days"] == f"{sum(s.pending for s in officers.values()):,}"
    assert page.figures["New friends"] == f"{sum(s.new_friends for s in officers.values()):,}"


def test_the_week_of_missed_days_counts_the_members_missed_findings(demo: Demo) -> None:
    page = read(demo.report.read_text(encoding="utf-8"))
    evaluation = demo.evaluation
    last_week = [demo.dataset.end - dt.timedelta(days=n) for n in range(6, -1, -1)]
    missed = {
        (f.subject_id, f.day)
        for f in evaluation.findings
        if f.subject_kind == "officer" and f.status is Status.MISSED and f.rule == "tiada-hari-tanpa-teman-baru"
    }
    rows = page.rows("week-missed-table")
    for team in (t for t in map(json.loads, demo.dataset.lines) if t["type"] == "team"):
        members = [m["nrp"] for m in team["members"]]
        expected = [sum((nrp, day) in missed for nrp in members) for day in last_week]
        assert rows[team["name"]][2:] == [*map(str, expected), str(sum(expected))]


def test_village_coverage_is_the_last_visit_in_the_data(demo: Demo) -> None:
    page = read(demo.report.read_text(encoding="utf-8"))
    last: dict[str, dt.date] = {}
    for record in map(json.loads, demo.dataset.lines):
        if record["type"] != "interaction":
            continue
        if dt.datetime.fromisoformat(record["recorded_at"]) > demo.dataset.as_of:
            continue
        day = dt.datetime.fromisoformat(record["occurred_at"]).date()  # the demo's instants are in WIB
        last[record["territory"]] = max(day, last.get(record["territory"], day))
    rows = {row[2]: row for row in page.tables["village-coverage"][1:]}
    assert len(rows) == 171
    for code, row in rows.items():
        if code in last:
            assert row[4:] == [last[code].isoformat(), str((demo.dataset.end - last[code]).days)]
        else:
            assert row[4:] == ["never", "never"]


def test_every_chart_has_a_text_alternative_and_a_table(demo: Demo) -> None:
    html = demo.report.read_text(encoding="utf-8")
    charts = re.findall(r"<svg [^>]*>", html)
    assert len(charts) == 60 + 3
    for chart in charts:
        assert 'role="img"' in chart
        assert "aria-labelledby" in chart
    assert html.count("<desc id=") == len(charts)
    page = read(html)
    # One table per officer's calendar, and one behind each of the three other charts.
    assert len(page.tables) >= 60 + 3
    # The table behind an officer's calendar has each of the engine's findings, in its own cell.
    marks = {"✓": Status.MET, "✗": Status.MISSED, "…": Status.PENDING, "·": Status.EXCUSED}
    for summary in (s for s in demo.evaluation.summaries if s.subject_kind == "officer"):
        cells = [c for row in page.tables[f"days-{summary.subject_id}"][1:] for c in row[1:] if c]
        findings = [
            f for f in demo.evaluation.findings if f.rule == summary.rule and f.subject_id == summary.subject_id
        ]
        assert sorted(cells) == sorted(
            f"{f.new_friends} {next(k for k, v in marks.items() if v is f.status)}" for f in findings
        )
    assert "<script" not in html
    assert not re.search(r"""(src|href)=["'](https?:)?//""", html)


def test_the_terminal_summary_has_colours_on_a_terminal_and_none_when_piped(demo: Demo) -> None:
    coloured, plain = io.StringIO(), io.StringIO()
    print_summary(demo.overview, Console(file=coloured, force_terminal=True, width=100), report="report.html")
    print_summary(demo.overview, Console(file=plain, force_terminal=False, width=100), report="report.html")
    assert ANSI.search(coloured.getvalue())
    assert not ANSI.search(plain.getvalue())
    assert ANSI.sub("", coloured.getvalue()) == plain.getvalue()


def test_the_terminal_summary_shows_the_engines_figures_in_eighty_columns(demo: Demo) -> None:
    console = Console(file=io.StringIO(), force_terminal=False, width=80, record=True)
    print_summary(demo.overview, console)
    text = console.export_text()
    assert max(len(line) for line in text.splitlines()) <= 80
    overview = demo.overview
    assert f"Compliance {percent(overview.total.compliance)}" in text
    for row in overview.polseks:
        line = next(line for line in text.splitlines() if line.startswith(f" {row.name} "))
        assert line.split()[-3:-1] == [str(row.tally.missed), percent(row.tally.compliance)]
    worst = min(
        (s for s in demo.evaluation.summaries if s.rule == "tiada-hari-tanpa-teman-baru"),
        key=lambda s: (-s.missed, s.subject_id),
    )
    missed_section = text[text.index("Most missed days") :]
    first = missed_section.splitlines()[4]
    assert first.split()[-1] == str(worst.missed)
    for day, count in overview.pending:
        assert f"{day}: {count} officers" in text
    assert f"Villages not visited for 14 days or more: {len(overview.stale_villages())} of 171" in text


def test_the_report_command_writes_what_the_demo_wrote(demo: Demo, tmp_path: Path) -> None:
    output = tmp_path / "again.html"
    dataset = demo.dataset
    argv = ["report", "--store", demo.store_url, "--rules", str(demo.rules), "--from", str(dataset.start),
            "--to", str(dataset.end), "--as-of", dataset.as_of.isoformat(), "--output", str(output)]  # fmt: skip
    assert main(argv) == 0
    assert output.read_text(encoding="utf-8") == demo.report.read_text(encoding="utf-8")


def test_a_report_with_the_built_in_rule_only_shows_teams_by_their_members_days(demo: Demo, registry: Registry) -> None:
    store = registry.open_store(demo.store_url)
    try:
        evaluation = evaluate(
            store,
            builtin_rules(kinds=registry.rule_kinds),
            kinds=registry.rule_kinds,
            start=demo.dataset.start,
            end=demo.dataset.end,
            as_of=demo.dataset.as_of,
        )
        overview = read_overview(store, evaluation)
    finally:
        store.close()
    assert overview.team_rule is None
    members = {t["id"]: {m["nrp"] for m in t["members"]} for t in map(json.loads, demo.dataset.lines) if t["type"] == "team"}  # fmt: skip
    summaries = {s.subject_id: s for s in evaluation.summaries}
    for team in overview.teams:
        assert team.tally.met == sum(summaries[nrp].met for nrp in members[team.id])
    assert "No team rule was evaluated" in render_html(overview)


def test_the_report_command_refuses_a_store_that_does_not_exist(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    output = tmp_path / "report.html"
    argv = ["report", "--store", f"sqlite:///{tmp_path / 'none.db'}", "--from", "2023-06-08", "--to", "2023-06-30",
            "--output", str(output)]  # fmt: skip
    assert main(argv) == 2
    assert "load a dataset first" in capsys.readouterr().err
    assert not output.exists()
    assert not (tmp_path / "none.db").exists()


TEAM_RULES = """
[[rule]]
id = "officers"
kind = "new_friends"
subject = "officer"

[[rule]]
id = "teams"
kind = "new_friends"
subject = "team"
novelty = "team"
"""


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_on_any_dataset_the_figures_add_up_to_the_engines_and_the_report_names_no_resident(
    registry: Registry, data: st.DataObject
) -> None:
    dataset = data.draw(datasets(max_officers=5, max_days=10, max_versions=1), label="dataset")
    as_of = data.draw(as_of_instants(dataset), label="as of")
    first, length = data.draw(st.integers(-2, 6), label="start"), data.draw(st.integers(0, 12), label="days")
    start = dt.date(2023, 6, 8) + dt.timedelta(days=first)
    end = start + dt.timedelta(days=length)
    store = MemoryStore()
    try:
        store.write(dataset)
        kinds = registry.rule_kinds
        rules = parse_rules(TEAM_RULES, kinds=kinds)
        evaluation = evaluate(store, rules, kinds=kinds, start=start, end=end, as_of=as_of)
        overview = read_overview(store, evaluation)
        # The report command's overview, made without holding the evaluation: the same, field for field.
        assert stream_overview(store, rules, kinds=kinds, start=start, end=end, as_of=as_of) == overview
        builtin = evaluate(store, kinds=kinds, start=start, end=end, as_of=as_of)
        assert stream_overview(store, kinds=kinds, start=start, end=end, as_of=as_of) == read_overview(store, builtin)
        in_force = {u.id: u for u in store.units(as_of)}
        if in_force:
            # One unit's overview: its subjects' rows, its (and its sub-units') teams and their villages, its name.
            unit = data.draw(st.sampled_from(sorted(in_force)), label="unit")
            some = evaluate(store, rules, kinds=kinds, start=start, end=end, as_of=as_of, units=[unit])
            unit_overview = read_overview(store, some, units=[unit])
            assert (
                stream_overview(store, rules, kinds=kinds, start=start, end=end, as_of=as_of, units=[unit])
                == unit_overview
            )
            assert unit_overview.title == in_force[unit].name
            within = {unit} | {u.id for u in in_force.values() if u.parent == unit}
            within |= {u.id for u in in_force.values() if u.parent in within}
            teams = {t.id: t for t in store.teams(as_of) if t.unit in within}
            assert {row.id for row in unit_overview.teams} <= set(teams)
            assert {row.code for row in unit_overview.villages} <= {
                code for t in teams.values() for code in t.territories
            }
            assert [row.summary for row in unit_overview.officers] == [
                s for s in some.summaries if s.rule == "officers"
            ]
    finally:
        store.close()
    officers = [s for s in evaluation.summaries if s.rule == "officers"]
    assert [row.summary for row in overview.officers] == officers
    for row in overview.officers:
        assert Tally.of_cells(row.days) == Tally(met=row.summary.met, missed=row.summary.missed,
                                                 pending=row.summary.pending, excused=row.summary.excused)  # fmt: skip
    pooled = [sum(getattr(r.tally, f) for r in overview.polseks) for f in ("met", "missed", "pending", "excused")]
    assert pooled == [sum(getattr(s, f) for s in officers) for f in ("met", "missed", "pending", "excused")]
    assert overview.total == Tally(met=pooled[0], missed=pooled[1], pending=pooled[2], excused=pooled[3])
    for group in (*overview.polseks, *overview.teams):
        weekly = [sum(getattr(t, f) for t in group.weekly) for f in ("met", "missed", "pending", "excused")]
        assert weekly == [group.tally.met, group.tally.missed, group.tally.pending, group.tally.excused]
    teams = {s.subject_id: s for s in evaluation.summaries if s.rule == "teams"}
    for team in overview.teams:
        if team.id in teams:
            assert team.tally.compliance == teams[team.id].compliance
    assert sum(count for _, count in overview.pending) == overview.total.pending
    html = render_html(overview)
    for resident in dataset.residents:
        assert resident.key not in html
    assert not re.search(r"\b(nik|tel|ref):", html)
    print_summary(overview, Console(file=io.StringIO(), width=80))


def test_an_empty_store_gives_an_empty_report_and_summary(registry: Registry) -> None:
    store = MemoryStore()
    evaluation = evaluate(store, kinds=registry.rule_kinds, start=dt.date(2023, 6, 8), end=dt.date(2023, 6, 9),
                          as_of=dt.datetime(2023, 6, 10, tzinfo=dt.UTC))  # fmt: skip
    overview = read_overview(store, evaluation)
    assert overview.title == "Every unit"
    assert overview.total == Tally()
    console = Console(file=io.StringIO(), width=80, record=True)
    print_summary(overview, console)
    text = console.export_text()
    assert "Compliance -   0 officers" in text
    assert "Days still pending: none" in text
    html = render_html(overview)
    assert "<h1>Every unit: Tiada Hari Tanpa Teman Baru</h1>" in html
    assert html.count('role="img"') == 3


def test_a_period_that_ends_before_it_starts_is_a_usage_error(
    demo: Demo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    output = tmp_path / "report.html"
    argv = ["report", "--store", demo.store_url, "--from", "2023-06-30", "--to", "2023-06-08", "--output", str(output)]
    assert main(argv) == 2
    assert "--to 2023-06-08 is before --from 2023-06-30" in capsys.readouterr().err
    assert not output.exists()


def test_the_report_is_made_and_written_a_piece_at_a_time(demo: Demo, tmp_path: Path) -> None:
    parts = list(html_parts(demo.overview))
    assert "".join(parts) == render_html(demo.overview) == demo.report.read_text(encoding="utf-8")
    calendars = [p for p in parts if p.startswith('<figure class="officer">')]
    assert len(calendars) == len(demo.overview.officers) == 60  # one piece per officer: the page is never whole
    assert sum(map(len, calendars)) > len("".join(parts)) / 2  # and they are most of the page

    def failing() -> Iterator[str]:  # the disk fills, or the rendering fails, half-way through
        yield from parts[:5]
        raise OSError(28, "No space left on device")

    old = tmp_path / "report.html"
    old.write_text("the report before", encoding="utf-8")
    with pytest.raises(UsageError, match=r"cannot write .*report\.html: No space left on device"):
        write_output(old, failing())
    assert old.read_text(encoding="utf-8") == "the report before"  # whole or not at all
    with pytest.raises(OSError, match="No space"):
        demo_write(old, failing())
    assert old.read_text(encoding="utf-8") == "the report before"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.html"]  # no temporary file left


FAR = dt.datetime(2100, 1, 1, tzinfo=dt.UTC)


class _WithoutVisits:
    """A store as a third party might write it: everything but `visits` (so read through its interactions)."""

    def __init__(self, store: MemoryStore) -> None:
        self._store = store

    def __getattr__(self, name: str) -> Any:
        if name == "visits":
            raise AttributeError(name)
        return getattr(self._store, name)


@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_last_visits_are_the_same_from_visits_and_from_the_interactions(data: st.DataObject) -> None:
    dataset = data.draw(datasets(max_officers=4, max_days=8, max_versions=1), label="dataset")
    recorded = sorted({i.recorded_at for i in dataset.interactions})  # as of the instant a visit was recorded, too
    as_of = data.draw(as_of_instants(dataset) | st.sampled_from(recorded or [FAR]), label="as of")
    end = dt.date(2023, 6, 8) + dt.timedelta(days=data.draw(st.integers(0, 20), label="days"))
    store = MemoryStore()
    store.write(dataset)
    codes = sorted({i.territory for i in dataset.interactions}) or ["35"]
    places = data.draw(st.none() | st.sets(st.sampled_from(codes)), label="territories")
    organisation = {
        "officers": {o.nrp: o for o in store.officers(as_of)},
        "units": {u.id: u for u in store.units(as_of)},
    }
    plain = _WithoutVisits(store)
    assert not isinstance(plain, ReadsVisits)
    found = last_visits(store, end=end, as_of=as_of, territories=places, **organisation)  # type: ignore[arg-type]
    assert last_visits(plain, end=end, as_of=as_of, territories=places, **organisation) == found  # type: ignore[arg-type]
    for territory, day in found.items():  # each the latest local day of a visit recorded by then, by the period's end
        assert places is None or territory in places
        assert day <= end


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_last_visits_are_the_latest_local_day_of_any_visit_however_long_ago(data: st.DataObject) -> None:
    """Read a window at a time, latest first, the last visits are still the latest local day by the period's end
    of every visit recorded by then: visits moved up to four years back, so that every window is met."""
    dataset = data.draw(datasets(max_officers=4, max_days=8, max_versions=1), label="dataset")
    back = data.draw(
        st.lists(st.integers(-1500, 2), min_size=len(dataset.interactions), max_size=len(dataset.interactions)),
        label="days moved",
    )
    moved = tuple(
        attrs.evolve(
            i,
            occurred_at=i.occurred_at + dt.timedelta(days=days),
            recorded_at=i.recorded_at + dt.timedelta(days=days),
        )
        for i, days in zip(dataset.interactions, back, strict=True)
    )
    dataset = attrs.evolve(dataset, interactions=moved)
    recorded = sorted({i.recorded_at for i in moved})
    as_of = data.draw(st.sampled_from([*recorded, FAR]), label="as of")
    end = dt.date(2023, 6, 8) + dt.timedelta(days=data.draw(st.integers(-1600, 20), label="days"))
    codes = sorted({i.territory for i in moved}) or ["35"]
    places = data.draw(st.lists(st.sampled_from([*codes, "35.99.99.9999"]), unique=True), label="territories")
    memory = MemoryStore()
    memory.write(dataset)
    officers = {o.nrp: o for o in memory.officers(as_of)}
    units = {u.id: u for u in memory.units(as_of)}
    expected: dict[str, dt.date] = {}
    for i in moved:  # by definition: every visit, its first officer's unit's day
        officer = officers.get(i.officers[0])
        unit = units.get(officer.unit) if officer else None
        day = local_day(i.occurred_at, unit.timezone if unit else "Asia/Jakarta")
        if i.recorded_at <= as_of and i.territory in places and day <= end:
            expected[i.territory] = max(day, expected.get(i.territory, day))
    with tempfile.TemporaryDirectory() as folder:
        sqlite = SQLiteStore(f"sqlite:///{folder}/visits.db")
        try:
            sqlite.write(dataset)
            for store in (memory, _WithoutVisits(memory), sqlite):
                found = last_visits(store, end=end, as_of=as_of, territories=places, officers=officers, units=units)  # type: ignore[arg-type]
                assert found == expected
        finally:
            sqlite.close()


def test_last_visits_count_the_hour_a_local_day_steps_back_into() -> None:
    """St. John's left summer time at 00:01 until 2010: on 2010-11-07 at 02:31 UTC its clocks went from 00:01 on
    the 7th back to 23:01 on the 6th. A visit in that hour is on the 6th, though it came after the 6th had ended
    there once: a report to the 6th counts it, and one to the 5th does not, however far back it reads."""
    zone = "America/St_Johns"
    unit = Unit(id="polsek-x", name="Polsek X", level=UnitLevel.POLSEK, timezone=zone)
    officer = Officer(nrp="87050123", name="Budi", rank=Rank.BRIPDA, unit=unit.id)
    village = Territory(code="35.05.01.2001", name="Bakung")

    def visit(ident: str, occurred: dt.datetime) -> Interaction:
        return Interaction(
            id=ident,
            occurred_at=occurred,
            recorded_at=occurred + dt.timedelta(hours=1),
            territory=village.code,
            kind=InteractionKind.HOME_VISIT,
            officers=(officer.nrp,),
            residents=("nik:" + "0" * 32,),
        )

    stepped_back = dt.datetime(2010, 11, 7, 2, 31, 30, tzinfo=dt.UTC)
    assert local_day(stepped_back, zone) == dt.date(2010, 11, 6)
    assert local_day(stepped_back - dt.timedelta(minutes=1), zone) == dt.date(2010, 11, 7)
    store = MemoryStore()
    store.write(
        Batch(
            units=(unit,),
            territories=(village,),
            officers=(officer,),
            interactions=(visit("i-1", dt.datetime(2009, 1, 5, 12, tzinfo=dt.UTC)), visit("i-2", stepped_back)),
        )
    )
    organisation = {"officers": {officer.nrp: officer}, "units": {unit.id: unit}}
    for end, expected in ((dt.date(2010, 11, 6), dt.date(2010, 11, 6)), (dt.date(2010, 11, 5), dt.date(2009, 1, 5))):
        found = last_visits(store, end=end, as_of=FAR, territories=[village.code], **organisation)  # type: ignore[arg-type]
        assert found == {village.code: expected}
