"""Messages: the titles and bodies of notices, from templates in Indonesian (default) and English.

Templates are `string.Template` texts (``$name`` placeholders). A deployment overrides any of them in the routes
file (``[templates.id]``, ``[templates.en]``). The placeholders are the only data a template can reach: officer
and team names, days, rule ids and counts. Nothing about residents or interactions is ever offered to a template.
"""

from __future__ import annotations

import datetime as dt
import string
from collections import Counter
from collections.abc import Mapping, Sequence

import attrs

from community_policing.routing.notices import Language, Notice, NoticeFinding, Recipient, Role, notice_id

__all__ = ["TEMPLATE_KEYS", "TEMPLATES", "Messages", "format_day", "render_notice", "template_problem"]

_FINDING = frozenset({"recipient", "subject", "day", "rule", "status", "new_friends", "required", "action", "reason"})
_STATUS = frozenset({"new_friends", "required", "reason"})
_DIGEST = frozenset(
    {"recipient", "digest_day", "scope", "lines", "missed", "pending", "met", "excused", "count", "action"}
)
_LINE = frozenset({"subject", "day", "rule", "status", "new_friends", "required", "reason"})

PLACEHOLDERS: Mapping[str, frozenset[str]] = {
    "finding_title": _FINDING,
    "finding_body": _FINDING,
    "digest_title": _DIGEST,
    "digest_body": _DIGEST,
    "digest_line": _LINE,
    "status_met": _STATUS,
    "status_missed": _STATUS,
    "status_pending": _STATUS,
    "status_excused": _STATUS,
    "action_missed_subject": _STATUS,
    "action_missed_others": _STATUS,
    "action_pending_subject": _STATUS,
    "action_pending_others": _STATUS,
    "action_met": _STATUS,
    "action_excused": _STATUS,
    "action_digest": frozenset(),
}
"""Each template and the placeholders it may use."""

TEMPLATE_KEYS = tuple(PLACEHOLDERS)

TEMPLATES: Mapping[Language, Mapping[str, str]] = {
    Language.ID: {
        "finding_title": "Teman baru: $subject $status — $day",
        "finding_body": "Yth. $recipient,\n\n$subject $status pada $day (aturan $rule).\n\n$action",
        "digest_title": "Rekap $digest_day: $missed tidak tercapai, $pending belum tercatat, $met tercapai",
        "digest_body": "Yth. $recipient,\n\nRekap $scope per $digest_day ($count catatan):\n$lines\n\n$action",
        "digest_line": "- $subject: $status ($day)",
        "status_met": "memenuhi target teman baru ($new_friends dari $required)",
        "status_missed": "tidak mencapai target teman baru ($new_friends dari $required)",
        "status_pending": "belum mencatat teman baru ($new_friends dari $required, hari masih berjalan)",
        "status_excused": "dibebaskan dari target ($reason)",
        "action_missed_subject": (
            "Mohon hari ini berkenalan dengan sedikitnya $required warga baru dan mencatat kegiatannya."
            " Catatan susulan tidak mengubah hari yang sudah lewat."
        ),
        "action_missed_others": "Mohon dampingi anggota tersebut agar hari ini kembali mendapat teman baru.",
        "action_pending_subject": (
            "Masih ada waktu: temui sedikitnya $required warga baru dan catat kegiatannya sebelum hari berakhir."
        ),
        "action_pending_others": "Mohon ingatkan anggota tersebut sebelum hari berakhir.",
        "action_met": "Terima kasih; pertahankan semangat Tiada Hari Tanpa Teman Baru.",
        "action_excused": "Tidak ada tindakan yang diperlukan.",
        "action_digest": "Mohon tindak lanjuti anggota yang belum mencapai target.",
    },
    Language.EN: {
        "finding_title": "New friends: $subject $status — $day",
        "finding_body": "Dear $recipient,\n\n$subject $status on $day (rule $rule).\n\n$action",
        "digest_title": "Summary for $digest_day: $missed missed, $pending pending, $met met",
        "digest_body": "Dear $recipient,\n\nSummary of $scope for $digest_day ($count entries):\n$lines\n\n$action",
        "digest_line": "- $subject: $status ($day)",
        "status_met": "met the new-friend target ($new_friends of $required)",
        "status_missed": "missed the new-friend target ($new_friends of $required)",
        "status_pending": "has recorded no new friend yet ($new_friends of $required; the day is still open)",
        "status_excused": "was excused ($reason)",
        "action_missed_subject": (
            "Please meet at least $required new resident(s) today and record the activity."
            " A late record does not change a day that has passed."
        ),
        "action_missed_others": "Please support this officer so that today brings a new friend again.",
        "action_pending_subject": "There is still time: meet at least $required new resident(s) and record it today.",
        "action_pending_others": "Please remind this officer before the day ends.",
        "action_met": "Thank you; keep up 'no day without a new friend'.",
        "action_excused": "No action is needed.",
        "action_digest": "Please follow up with the officers who missed the target.",
    },
}
"""The built-in templates, by language and key."""

_DAYS = {
    Language.ID: ("Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu"),
    Language.EN: ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
}
_MONTHS = {
    Language.ID: [
        "Januari",
        "Februari",
        "Maret",
        "April",
        "Mei",
        "Juni",
        "Juli",
        "Agustus",
        "September",
        "Oktober",
        "November",
        "Desember",
    ],
    Language.EN: [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ],
}
_REASONS = {
    Language.ID: {
        "leave": "cuti",
        "sick": "sakit",
        "training": "pelatihan",
        "duty": "dinas",
        "other": "izin",
        "day_off": "hari libur",
        "public_holiday": "hari libur nasional",
        "no_member_on_duty": "tidak ada anggota yang bertugas",
    },
    Language.EN: {
        "leave": "leave",
        "sick": "sick",
        "training": "training",
        "duty": "on duty elsewhere",
        "other": "excused",
        "day_off": "day off",
        "public_holiday": "public holiday",
        "no_member_on_duty": "no member on duty",
    },
}


def format_day(day: dt.date, language: Language) -> str:
    """`day` as a person reads it: ``Jumat, 9 Juni 2023`` or ``Friday 9 June 2023``."""
    weekday = _DAYS[language][day.weekday()]
    month = _MONTHS[language][day.month - 1]
    separator = "," if language is Language.ID else ""
    return f"{weekday}{separator} {day.day} {month} {day.year}"


def template_problem(key: str, text: str) -> str | None:
    """What is wrong with `text` as template `key` (a placeholder it may not use, a stray ``$``), or None."""
    template = string.Template(text)
    if not template.is_valid():
        return "not a valid template: write $name or ${name} for a placeholder and $$ for a dollar sign"
    allowed = PLACEHOLDERS[key]
    unknown = sorted(set(template.get_identifiers()) - allowed)
    if unknown:
        return f"unknown placeholder(s) {', '.join('$' + u for u in unknown)}; allowed: " + (
            ", ".join("$" + a for a in sorted(allowed)) or "none"
        )
    return None


@attrs.frozen(kw_only=True)
class Messages:
    """The built-in templates with a deployment's overrides (validated by the routes reader)."""

    overrides: Mapping[Language, Mapping[str, str]] = attrs.field(factory=dict)

    def text(self, language: Language, key: str, **values: object) -> str:
        """Template `key` in `language`, filled with `values`."""
        template = self.overrides.get(language, {}).get(key) or TEMPLATES[language][key]
        return string.Template(template).safe_substitute({k: str(v) for k, v in values.items()})


def _status_values(finding: NoticeFinding, language: Language) -> dict[str, object]:
    reason = _REASONS[language].get(finding.reason or "", finding.reason or "")
    return {"new_friends": finding.new_friends, "required": finding.required, "reason": reason}


def _action_key(finding: NoticeFinding, role: Role) -> str:
    if finding.status in ("missed", "pending"):
        whose = "subject" if role is Role.SUBJECT and finding.subject_kind == "officer" else "others"
        return f"action_{finding.status}_{whose}"
    return f"action_{finding.status}"


def render_notice(
    *,
    route: str,
    language: Language,
    recipient: Recipient,
    findings: Sequence[NoticeFinding],
    names: Mapping[tuple[str, str], str],
    messages: Messages,
    digest_day: dt.date | None = None,
    scope: str = "",
) -> Notice:
    """The notice of `findings` (one, or a digest's) to `recipient`, titled and written in `language`.

    `names` gives each subject (kind, id) as the text a notice shows (``Bripka Agus Setiawan (NRP 87050123)``,
    ``Tim Kanigoro I``); `scope` names what a digest covers (a unit, a team).
    """
    ordered = tuple(sorted(findings))
    values: dict[str, object]
    if digest_day is None:
        [finding] = ordered
        status = _status_values(finding, language)
        values = {
            "recipient": recipient.name,
            "subject": names.get((finding.subject_kind, finding.subject_id), finding.subject_id),
            "day": format_day(finding.day, language),
            "rule": finding.rule,
            "status": messages.text(language, f"status_{finding.status}", **status),
            "action": messages.text(language, _action_key(finding, recipient.role), **status),
            **status,
        }
        title = messages.text(language, "finding_title", **values)
        body = messages.text(language, "finding_body", **values)
    else:
        counts = Counter(f.status for f in ordered)
        lines = []
        for finding in ordered:
            status = _status_values(finding, language)
            lines.append(
                messages.text(
                    language,
                    "digest_line",
                    subject=names.get((finding.subject_kind, finding.subject_id), finding.subject_id),
                    day=format_day(finding.day, language),
                    rule=finding.rule,
                    status=messages.text(language, f"status_{finding.status}", **status),
                    **status,
                )
            )
        values = {
            "recipient": recipient.name,
            "digest_day": format_day(digest_day, language),
            "scope": scope or recipient.name,
            "lines": "\n".join(lines),
            "count": len(ordered),
            "action": messages.text(language, "action_digest"),
            **{status: counts.get(status, 0) for status in ("missed", "pending", "met", "excused")},
        }
        title = messages.text(language, "digest_title", **values)
        body = messages.text(language, "digest_body", **values)
    return Notice(
        id=notice_id(route, recipient.nrp, (f.key for f in ordered), digest_day),
        route=route,
        language=language,
        recipient=recipient,
        title=title,
        body=body,
        digest_day=digest_day,
        findings=ordered,
    )
