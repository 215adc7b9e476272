"""The reader's fast path for interaction lines structures exactly what the converter would, or stands aside."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from community_policing.convert import dumps, structure, unstructure
from community_policing.interchange import InteractionRecord, _plain_interaction
from community_policing.testing.strategies import interactions

_odd_values = st.sampled_from(
    [None, "", "HOME_VISIT", " home_visit", 7, 1.5, True, [], {}, ["87050123", 1], [""], "2023-06-08T09:00:00",
     "2023-06-08T09:00:00+07:00", {"ref": "w-1"}, {"topic": "x", "needs_follow_up": "ya"},
     {"topic": "", "needs_follow_up": True}, {"topic": "jalan", "needs_follow_up": False, "x": 1}]
)  # fmt: skip


@settings(max_examples=400)
@given(
    interaction=interactions(),
    field=st.sampled_from(
        [
            "id",
            "occurred_at",
            "recorded_at",
            "territory",
            "kind",
            "officers",
            "residents",
            "summary",
            "complaint",
            "follows_up",
            "extra",
        ]
    ),
    value=_odd_values,
    change=st.sampled_from(["keep", "replace", "delete"]),
)
def test_the_fast_path_gives_what_the_converter_gives(interaction: Any, field: str, value: object, change: str) -> None:
    data = unstructure(interaction)
    if change == "replace":
        data[field] = value
    elif change == "delete":
        data.pop(field, None)
    fast = _plain_interaction(dict(data))
    try:
        slow = structure(dict(data), InteractionRecord)
    except Exception:  # the converter refuses: the fast path must have stood aside
        assert fast is None
        return
    if fast is not None:
        assert fast == slow
        assert dumps(fast) == dumps(slow)


def test_the_usual_line_takes_the_fast_path() -> None:
    data = {
        "id": "i-1", "occurred_at": "2023-06-08T09:15:00+07:00", "territory": "35.05.14.2001", "kind": "complaint",
        "officers": ["87050123"], "residents": ["w-1"], "complaint": {"topic": "jalan", "needs_follow_up": True},
    }  # fmt: skip
    fast = _plain_interaction(dict(data))
    assert fast is not None
    assert fast == structure(dict(data), InteractionRecord)


@settings(max_examples=300)
@given(
    data=st.dictionaries(
        st.sampled_from(["ref", "nik", "phone", "name", "territory", "extra"]),
        st.none() | st.text(max_size=20) | st.sampled_from(["w-1", "3505010506900001", "0812-3456-7890", "\ud800", 7]),
    )
)
def test_the_resident_fast_path_gives_what_the_converter_gives(data: dict[str, Any]) -> None:
    from community_policing.interchange import ResidentRecord, _plain_resident

    fast = _plain_resident(dict(data))
    try:
        slow = structure(dict(data), ResidentRecord)
    except Exception:
        assert fast is None
        return
    if fast is not None:
        assert fast == slow
