"""The table, written as the findings come (`write_table`), is the table of the whole evaluation (`render_table`)."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.test_differential import rule_texts

from community_policing import report
from community_policing.report import render_table, write_table
from community_policing.rules.engine import Status, evaluate, stream_findings
from community_policing.rules.new_friends import NEW_FRIENDS
from community_policing.rules.spec import parse_rules
from community_policing.storage.memory import MemoryStore
from community_policing.testing.strategies import as_of_instants, datasets

KINDS: dict[str, Any] = {"new_friends": NEW_FRIENDS}
START = dt.date(2023, 6, 8)


@settings(max_examples=60, deadline=None)
@given(
    data=st.data(),
    rules=rule_texts(),
    statuses=st.none() | st.sets(st.sampled_from(list(Status)), min_size=1).map(frozenset),
    listed=st.sampled_from([0, 1, 3, 400]),
)
def test_the_table_written_as_findings_come_is_the_whole_evaluations_table(
    data: st.DataObject, rules: str, statuses: frozenset[Status] | None, listed: int
) -> None:
    dataset = data.draw(datasets(max_officers=5, max_days=8, max_versions=1), label="dataset")
    as_of = data.draw(as_of_instants(dataset), label="as of")
    end = START + dt.timedelta(days=data.draw(st.integers(0, 9), label="days"))
    store = MemoryStore()
    store.write(dataset)
    parsed = parse_rules(rules, kinds=KINDS)
    names = {"officers": {o.nrp: o for o in store.officers()}, "teams": {t.id: t for t in store.teams()}}
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(report, "TABLE_FINDINGS", listed)  # a rule with more findings is listed as a count
        whole = render_table(evaluate(store, parsed, kinds=KINDS, start=START, end=end, as_of=as_of), statuses, **names)
        out = io.StringIO()
        found = stream_findings(store, parsed, kinds=KINDS, start=START, end=end, as_of=as_of)
        write_table(out, found, statuses, start=START, end=end, as_of=as_of, **names)
    assert out.getvalue() == whole
    if statuses is None and listed == 0 and "Rule " in whole:
        assert "findings; use --status to list some" in whole
