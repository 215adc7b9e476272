"""The JSON report's fast writer writes exactly what ``json.dumps`` writes, finding by finding as they come."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from unittest import mock

from hypothesis import given, settings
from hypothesis import strategies as st

from community_policing import report
from community_policing.report import CSV_COLUMNS, _finding, finding_json, render_json, to_data, write_csv, write_json
from community_policing.rules.engine import Evaluation, Finding, Status, summarise

_text = st.text(min_size=1, max_size=12)
_findings = st.builds(
    Finding,
    _text,
    st.sampled_from(["officer", "team"]),
    _text,
    st.dates(),
    st.sampled_from(Status),
    st.integers(0, 10_000),
    st.integers(1, 10),
    st.none() | _text,
    st.lists(_text, max_size=4).map(tuple),
)


@settings(max_examples=500)
@given(finding=_findings)
def test_finding_json_is_json_dumps(finding: Finding) -> None:
    assert finding_json(finding) == json.dumps(_finding(finding), ensure_ascii=False, separators=(", ", ": "))


def _has_cr(finding: Finding) -> bool:
    """Whether a text of `finding` holds a carriage return, which no key or reason holds (keys are printable)."""
    return any("\r" in text for text in (finding.subject_id, finding.reason or "", *finding.evidence, finding.rule))


_sorted_findings = st.lists(_findings, max_size=30).map(lambda found: sorted(found, key=lambda f: f[:4]))
_statuses = st.none() | st.frozensets(st.sampled_from(Status))


@settings(max_examples=300)
@given(findings=_sorted_findings, statuses=_statuses, every=st.sampled_from([1, 3, 2_000]))
def test_written_as_they_come_is_the_spec_shape_with_summaries_of_every_finding(
    findings: list[Finding], statuses: frozenset[Status] | None, every: int
) -> None:
    as_of = dt.datetime(2023, 7, 1, tzinfo=dt.timezone(dt.timedelta(hours=7)))
    start, end = dt.date(2023, 6, 8), dt.date(2023, 6, 30)
    out = io.StringIO()
    with mock.patch.object(report, "_WRITE_EVERY", every):  # findings written in groups of `every`
        write_json(out, as_of=as_of, start=start, end=end, findings=iter(findings), statuses=statuses)
    whole = Evaluation(
        as_of=as_of, start=start, end=end, findings=tuple(findings), summaries=tuple(summarise(findings))
    )
    assert json.loads(out.getvalue()) == to_data(whole, statuses)
    assert out.getvalue() == render_json(whole, statuses)
    shown = [f for f in findings if statuses is None or f.status in statuses]
    lines = 5 + (2 + len(shown) if shown else 1) + (2 + len(whole.summaries) if whole.summaries else 1)
    assert out.getvalue().count("\n") == lines  # one line per finding and per summary, as the spec shows


@settings(max_examples=200)
@given(findings=_sorted_findings.filter(lambda found: not any(_has_cr(f) for f in found)), statuses=_statuses)
def test_csv_written_as_they_come_is_one_row_per_finding_shown(
    findings: list[Finding], statuses: frozenset[Status] | None
) -> None:
    out = io.StringIO()
    write_csv(out, iter(findings), statuses)
    rows = list(csv.reader(io.StringIO(out.getvalue(), newline="")))
    shown = [f for f in findings if statuses is None or f.status in statuses]
    assert rows[0] == list(CSV_COLUMNS)
    assert [(r[2], r[3], r[4], r[8]) for r in rows[1:]] == [
        (f.subject_id, f.day.isoformat(), f.status.value, " ".join(f.evidence)) for f in shown
    ]
