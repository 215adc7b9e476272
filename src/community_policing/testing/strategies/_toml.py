"""TOML documents written as people write rules and routes files, for the strategies that draw them."""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Mapping, Sequence

from hypothesis import strategies as st

__all__ = ["ID_TEXT", "documents"]

# An identifier the model accepts (`model.key_problem`), beyond the realistic names the strategies draw first: led
# and ended by a character that is not white space, with no control character and no lone surrogate (built so, not
# filtered, to keep generation fast).
_ID_END = st.characters(codec="utf-8", exclude_categories=("Cc", "Cs", "Zs", "Zl", "Zp"))
_ID_MIDDLE = st.text(st.characters(codec="utf-8", exclude_categories=("Cc", "Cs")), max_size=18)
ID_TEXT = st.builds(lambda a, b, c: a + b + c, _ID_END, _ID_MIDDLE, _ID_END) | _ID_END


def value(item: object) -> str:
    """`item` as a TOML value: a basic string, an integer, a boolean, a local date, or an array of them."""
    if isinstance(item, bool):
        return "true" if item else "false"
    if isinstance(item, int):
        return str(item)
    if isinstance(item, dt.date):
        return item.isoformat()
    if isinstance(item, (tuple, list)):
        return "[" + ", ".join(value(member) for member in item) + "]"
    text = item.value if isinstance(item, enum.Enum) else str(item)
    return '"' + str(text).replace("\\", "\\\\").replace('"', '\\"') + '"'


_NONE = object()  # no default
_TABLES = st.sampled_from((" ", ""))  # `[[ rule ]]` or `[[rule]]`
_SPACING = st.sampled_from((" = ", " = ", "=", "  =  ", "\t= "))
_COMMENTS = st.sampled_from(("", "", "", "  # agreed with the Kapolres", "\t# see the order of June"))
_ENDS = st.sampled_from(("\n", "\n\n", "\n  \n"))


@st.composite
def documents(
    draw: st.DrawFn,
    table: str,
    tables: Sequence[Mapping[str, object]],
    defaults: Mapping[str, object],
    heads: st.SearchStrategy[str],
) -> str:
    """An array of `table` tables holding `tables` (field -> value, in the usual order), as a person writes it.

    Fields at their value in `defaults` are now and then left out (the reader then takes the default), the fields
    are written in the usual order or in any, with spacing and comments that vary; `heads` is what comes first.
    """
    parts = [draw(heads)]
    for fields in tables:
        left_out = {name for name, item in fields.items() if defaults.get(name, _NONE) == item and draw(st.booleans())}
        names = [name for name in fields if name not in left_out]
        order = draw(st.permutations(names)) if draw(st.booleans()) else names
        inside = draw(_TABLES)
        lines = [f"[[{inside}{table}{inside}]]"]
        lines.extend(f"{name}{draw(_SPACING)}{value(fields[name])}{draw(_COMMENTS)}" for name in order)
        parts.append("\n".join(lines) + draw(_ENDS))
    return "".join(parts)
