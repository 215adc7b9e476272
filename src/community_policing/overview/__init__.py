"""What a person looks at: the figures of an evaluation, the terminal summary and the HTML report.

overview = read_overview(store, evaluation)   # or stream_overview(store, rules, ...): the evaluation never held
print_summary(overview)                       # rich: colours on a terminal, plain text when piped
Path("report.html").write_text(render_html(overview), encoding="utf-8")   # or write html_parts(overview) one by one
"""

from community_policing.overview.figures import (
    STALE_DAYS,
    DayCell,
    GroupRow,
    OfficerRow,
    Overview,
    Tally,
    TeamWeek,
    VillageRow,
    read_overview,
    stream_overview,
)
from community_policing.overview.html import html_parts, render_html
from community_policing.overview.terminal import print_summary, summary

__all__ = [
    "STALE_DAYS",
    "DayCell",
    "GroupRow",
    "OfficerRow",
    "Overview",
    "Tally",
    "TeamWeek",
    "VillageRow",
    "html_parts",
    "print_summary",
    "read_overview",
    "render_html",
    "stream_overview",
    "summary",
]
