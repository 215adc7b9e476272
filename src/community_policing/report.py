"""Evaluation results as JSON, CSV and an aligned table for people."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any, TextIO

from community_policing.model import Officer, Team
from community_policing.rules.engine import Evaluation, Finding, Status, Summaries, Summary

__all__ = [
    "FORMATS",
    "TABLE_FINDINGS",
    "finding_json",
    "render",
    "render_csv",
    "render_json",
    "render_table",
    "to_data",
    "write_csv",
    "write_json",
    "write_table",
]

FORMATS = ("table", "json", "csv")


def _finding(finding: Finding) -> dict[str, Any]:
    return {
        "rule": finding.rule,
        "subject": {"kind": finding.subject_kind, "id": finding.subject_id},
        "day": finding.day.isoformat(),
        "status": finding.status.value,
        "new_friends": finding.new_friends,
        "required": finding.required,
        "reason": finding.reason,
        "evidence": list(finding.evidence),
    }


def _summary(summary: Summary) -> dict[str, Any]:
    return {
        "rule": summary.rule,
        "subject": {"kind": summary.subject_kind, "id": summary.subject_id},
        "duty_days": summary.duty_days,
        "met": summary.met,
        "missed": summary.missed,
        "excused": summary.excused,
        "pending": summary.pending,
        "compliance": summary.compliance,
        "current_streak": summary.current_streak,
        "longest_streak": summary.longest_streak,
        "new_friends": summary.new_friends,
    }


def _selected(evaluation: Evaluation, statuses: Collection[Status] | None) -> Sequence[Finding]:
    if statuses is None:
        return evaluation.findings
    return [f for f in evaluation.findings if f.status in statuses]


def to_data(evaluation: Evaluation, statuses: Collection[Status] | None = None) -> dict[str, Any]:
    """The interchange JSON shape of an evaluation (findings filtered by `statuses`, summaries whole)."""
    return {
        "as_of": evaluation.as_of.isoformat(),
        "from": evaluation.start.isoformat(),
        "to": evaluation.end.isoformat(),
        "findings": [_finding(f) for f in _selected(evaluation, statuses)],
        "summaries": [_summary(s) for s in evaluation.summaries],
    }


_text = json.encoder.encode_basestring  # how json.dumps(..., ensure_ascii=False) writes a string
_STATUS_TEXT = {status: _text(status.value) for status in Status}


def finding_json(finding: Finding) -> str:
    """One finding as `render_json` writes it: ``json.dumps`` of `_finding`, written directly (several times faster).

    The output of `evaluate --format json` is mostly these lines; a test holds this to ``json.dumps``.
    """
    f = finding
    reason = "null" if f.reason is None else _text(f.reason)
    evidence = ", ".join(map(_text, f.evidence))
    return (
        f'{{"rule": {_text(f.rule)}, "subject": {{"kind": {_text(f.subject_kind)}, "id": {_text(f.subject_id)}}}, '
        f'"day": "{f.day.isoformat()}", "status": {_STATUS_TEXT[f.status]}, "new_friends": {f.new_friends}, '
        f'"required": {f.required}, "reason": {reason}, "evidence": [{evidence}]}}'
    )


def render_json(evaluation: Evaluation, statuses: Collection[Status] | None = None) -> str:
    """JSON as in the interchange spec, one finding or summary per line; byte-identical for the same evaluation."""
    out = io.StringIO()
    write_json(
        out,
        as_of=evaluation.as_of,
        start=evaluation.start,
        end=evaluation.end,
        findings=evaluation.findings,
        statuses=statuses,
        summaries=evaluation.summaries,
    )
    return out.getvalue()


def _dump(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))


_WRITE_EVERY = 2_000  # findings joined into one write: fewer calls, little memory


def write_json(
    out: TextIO,
    *,
    as_of: dt.datetime,
    start: dt.date,
    end: dt.date,
    findings: Iterable[Finding],
    statuses: Collection[Status] | None = None,
    summaries: Iterable[Summary] | None = None,
) -> None:
    """Write what `render_json` gives, finding by finding as `findings` come (sorted by rule, subject and day).

    The summaries follow the findings: `summaries` when given, else built from every finding as it passes (the
    `statuses` filter chooses the findings written, never what the summaries count). Memory stays that of one
    summary per subject, however many findings stream through.
    """
    out.write(f'{{\n  "as_of": {_dump(as_of.isoformat())},\n  "from": {_dump(start.isoformat())},\n')
    out.write(f'  "to": {_dump(end.isoformat())},\n  "findings": [')
    counted = Summaries() if summaries is None else None
    lines: list[str] = []  # findings not written yet
    written = False  # whether any finding was

    def flush() -> None:
        nonlocal written
        out.write(("," if written else "") + "\n    " + ",\n    ".join(lines))
        written = True
        lines.clear()

    for finding in findings:
        if counted is not None:
            counted.add(finding)
        if statuses is None or finding.status in statuses:
            lines.append(finding_json(finding))
            if len(lines) >= _WRITE_EVERY:
                flush()
    if lines:
        flush()
    out.write("\n  ],\n" if written else "],\n")
    shown = [_dump(_summary(s)) for s in (counted.result() if counted is not None else summaries or ())]
    out.write('  "summaries": [\n    ' + ",\n    ".join(shown) + "\n  ]\n}\n" if shown else '  "summaries": []\n}\n')


CSV_COLUMNS = ("rule", "subject_kind", "subject_id", "day", "status", "new_friends", "required", "reason", "evidence")


def render_csv(evaluation: Evaluation, statuses: Collection[Status] | None = None) -> str:
    """One CSV row per finding; evidence ids joined with spaces; an empty reason for statuses other than excused."""
    out = io.StringIO()
    write_csv(out, evaluation.findings, statuses)
    return out.getvalue()


def write_csv(out: TextIO, findings: Iterable[Finding], statuses: Collection[Status] | None = None) -> None:
    """Write what `render_csv` gives, row by row as `findings` come."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for f in findings:
        if statuses is not None and f.status not in statuses:
            continue
        writer.writerow(
            [
                f.rule,
                f.subject_kind,
                f.subject_id,
                f.day.isoformat(),
                f.status.value,
                f.new_friends,
                f.required,
                f.reason or "",
                " ".join(f.evidence),
            ]
        )


def _aligned(header: Sequence[str], rows: Sequence[Sequence[str]], numeric: Collection[int]) -> list[str]:
    widths = [max(len(header[c]), *(len(r[c]) for r in rows)) if rows else len(header[c]) for c in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(
            cell.rjust(w) if i in numeric else cell.ljust(w)
            for i, (cell, w) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    return [line(header), "  ".join("-" * w for w in widths), *(line(r) for r in rows)]


TABLE_FINDINGS = 400
"""A rule's findings are listed in the table when it has at most this many (or when statuses are asked for)."""


def render_table(
    evaluation: Evaluation,
    statuses: Collection[Status] | None = None,
    *,
    officers: Mapping[str, Officer] | None = None,
    teams: Mapping[str, Team] | None = None,
) -> str:
    """A report for people: per rule, one summary row per subject, then the findings (filtered by `statuses`)."""
    findings_listed: dict[str, list[Finding]] = defaultdict(list)
    for finding in _selected(evaluation, statuses):
        findings_listed[finding.rule].append(finding)
    totals = {rule: len(found) for rule, found in findings_listed.items()}
    period = (evaluation.start, evaluation.end, evaluation.as_of)
    return _table(period, statuses, evaluation.summaries, findings_listed, totals, officers or {}, teams or {})


def write_table(
    out: TextIO,
    findings: Iterable[Finding],
    statuses: Collection[Status] | None = None,
    *,
    start: dt.date,
    end: dt.date,
    as_of: dt.datetime,
    officers: Mapping[str, Officer] | None = None,
    teams: Mapping[str, Team] | None = None,
) -> None:
    """Write what `render_table` gives for the evaluation whose `findings` these are (in the engine's order), keeping
    of them only the summaries and the findings the table lists: those of `statuses`, or, without statuses, the
    first `TABLE_FINDINGS` + 1 of each rule (a rule with more is listed as a count). Memory does not grow with the
    findings, except those `statuses` asks to list."""
    counted = Summaries()
    findings_listed: dict[str, list[Finding]] = defaultdict(list)
    totals: dict[str, int] = defaultdict(int)
    for finding in findings:
        counted.add(finding)
        if statuses is None or finding.status in statuses:
            totals[finding.rule] += 1
            if statuses is not None or totals[finding.rule] <= TABLE_FINDINGS:
                findings_listed[finding.rule].append(finding)
    period = (start, end, as_of)
    out.write(_table(period, statuses, counted.result(), findings_listed, totals, officers or {}, teams or {}))


def _table(
    period: tuple[dt.date, dt.date, dt.datetime],
    statuses: Collection[Status] | None,
    summaries: Sequence[Summary],
    findings_listed: Mapping[str, Sequence[Finding]],
    totals: Mapping[str, int],
    officers: Mapping[str, Officer],
    teams: Mapping[str, Team],
) -> str:
    """The table of `summaries` and, per rule, of the findings listed (`totals` of them selected in all)."""
    start, end, as_of = period
    out = [f"Evaluation from {start} to {end}, as of {as_of.isoformat()}"]
    if statuses is not None:
        out.append("Findings shown: " + ", ".join(sorted(s.value for s in statuses)))

    def who(kind: str, key: str) -> tuple[str, str]:
        if kind == "officer" and key in officers:
            return officers[key].name, officers[key].rank.value
        if kind == "team" and key in teams:
            return teams[key].name, ""
        return "", ""

    for rule in sorted({s.rule for s in summaries}):
        out.append("")
        out.append(f"Rule {rule}")
        header = [
            "subject",
            "name",
            "rank",
            "duty",
            "met",
            "missed",
            "pending",
            "excused",
            "compliance",
            "streak",
            "best",
            "friends",
        ]
        rows = []
        for s in (s for s in summaries if s.rule == rule):
            name, rank = who(s.subject_kind, s.subject_id)
            compliance = "-" if s.compliance is None else f"{s.compliance * 100:.1f}%"
            rows.append(
                [s.subject_id, name, rank]
                + [str(v) for v in (s.duty_days, s.met, s.missed, s.pending, s.excused)]
                + [compliance, str(s.current_streak), str(s.longest_streak), str(s.new_friends)]
            )
        out.extend(_aligned(header, rows, numeric=set(range(3, 12))))
        total = totals.get(rule, 0)
        if statuses is not None or total <= TABLE_FINDINGS:
            findings = findings_listed.get(rule, ())
            out.append("")
            header = ["day", "subject", "name", "status", "friends", "required", "reason", "evidence"]
            rows = [
                [
                    f.day.isoformat(),
                    f.subject_id,
                    who(f.subject_kind, f.subject_id)[0],
                    f.status.value,
                    str(f.new_friends),
                    str(f.required),
                    f.reason or "",
                    " ".join(f.evidence),
                ]
                for f in sorted(findings, key=lambda f: (f.day, f.subject_id))
            ]
            out.extend(_aligned(header, rows, numeric={4, 5}))
        else:
            out.append(f"({total} findings; use --status to list some, or --format json/csv for all)")
    if not summaries:
        out.append("")
        out.append("No active subjects in this period.")
    return "\n".join(out) + "\n"


def render(
    evaluation: Evaluation,
    fmt: str,
    statuses: Collection[Status] | None = None,
    *,
    officers: Mapping[str, Officer] | None = None,
    teams: Mapping[str, Team] | None = None,
) -> str:
    """The evaluation in format `fmt` (one of `FORMATS`)."""
    if fmt == "json":
        return render_json(evaluation, statuses)
    if fmt == "csv":
        return render_csv(evaluation, statuses)
    if fmt == "table":
        return render_table(evaluation, statuses, officers=officers, teams=teams)
    raise ValueError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
