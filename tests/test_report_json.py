"""The JSON report's fast writer writes exactly what ``json.dumps`` writes."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from community_policing.report import _finding, finding_json
from community_policing.rules.engine import Finding, Status

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
