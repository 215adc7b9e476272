"""Notices: what a notifier delivers, as data and as the JSON of the spec, with deterministic ids."""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import Any

import attrs

__all__ = ["Language", "Notice", "NoticeFinding", "Recipient", "Role", "finding_key", "notice_id"]


class Role(enum.StrEnum):
    """Who a route's notices go to, relative to the finding's subject."""

    SUBJECT = "subject"
    TEAM_LEAD = "team_lead"
    COMMANDER = "commander"
    PARENT_COMMANDER = "parent_commander"


class Language(enum.StrEnum):
    """The language a notice is written in: Indonesian (the default) or English."""

    ID = "id"
    EN = "en"


def _sorted_contacts(contacts: Mapping[str, str]) -> dict[str, str]:
    return dict(sorted(dict(contacts).items()))


@attrs.frozen(kw_only=True)
class Recipient:
    """An officer a notice goes to, in the role the route names, with the work contacts of their record."""

    role: Role
    nrp: str
    name: str
    contacts: Mapping[str, str] = attrs.field(factory=dict, converter=_sorted_contacts)


def finding_key(rule: str, subject_kind: str, subject_id: str, day: dt.date, status: str) -> str:
    """A finding's identity: (rule, subject kind, subject id, day, status) as one string."""
    return "\x1f".join((rule, subject_kind, subject_id, day.isoformat(), status))


@attrs.frozen(kw_only=True, order=True)
class NoticeFinding:
    """A finding as a notice carries it: no evidence (interaction ids stay out of notices)."""

    rule: str
    subject_kind: str
    subject_id: str
    day: dt.date
    status: str
    severity: str = attrs.field(order=False)
    new_friends: int = attrs.field(order=False)
    required: int = attrs.field(order=False)
    reason: str | None = attrs.field(default=None, order=False)

    @property
    def key(self) -> str:
        """The finding's identity (see `finding_key`)."""
        return finding_key(self.rule, self.subject_kind, self.subject_id, self.day, self.status)

    def as_json(self) -> dict[str, Any]:
        """The finding as the notice JSON of the spec."""
        data: dict[str, Any] = {
            "rule": self.rule,
            "severity": self.severity,
            "subject": {"kind": self.subject_kind, "id": self.subject_id},
            "day": self.day.isoformat(),
            "status": self.status,
            "new_friends": self.new_friends,
            "required": self.required,
        }
        if self.reason is not None:
            data["reason"] = self.reason
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> NoticeFinding:
        """The finding from its notice JSON."""
        return cls(
            rule=data["rule"],
            subject_kind=data["subject"]["kind"],
            subject_id=data["subject"]["id"],
            day=dt.date.fromisoformat(data["day"]),
            status=data["status"],
            severity=data["severity"],
            new_friends=data["new_friends"],
            required=data["required"],
            reason=data.get("reason"),
        )


def notice_id(route: str, recipient: str, findings: Iterable[str], digest_day: dt.date | None) -> str:
    """The deterministic id of a notice: the same route, recipient NRP, finding keys and digest day, the same id."""
    material = json.dumps(
        [route, recipient, None if digest_day is None else digest_day.isoformat(), sorted(findings)],
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(material.encode("utf-8")).hexdigest()[:32]


@attrs.frozen(kw_only=True)
class Notice:
    """A notice to one recipient: one finding, or a digest of a day's findings (`digest_day` set)."""

    id: str
    route: str
    language: Language
    recipient: Recipient
    title: str
    body: str
    digest_day: dt.date | None
    findings: tuple[NoticeFinding, ...]

    def as_json(self) -> dict[str, Any]:
        """The notice as the JSON object of the spec (what the ``file://`` notifier writes, one per line)."""
        return {
            "id": self.id,
            "route": self.route,
            "language": self.language.value,
            "recipient": {
                "role": self.recipient.role.value,
                "nrp": self.recipient.nrp,
                "name": self.recipient.name,
                "contacts": dict(self.recipient.contacts),
            },
            "title": self.title,
            "body": self.body,
            "digest_day": None if self.digest_day is None else self.digest_day.isoformat(),
            "findings": [finding.as_json() for finding in self.findings],
        }

    def dumps(self) -> str:
        """`as_json` as one line of JSON (UTF-8 kept)."""
        return json.dumps(self.as_json(), ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def loads(cls, text: str) -> Notice:
        """The notice from the text `dumps` gave."""
        data = json.loads(text)
        recipient = data["recipient"]
        return cls(
            id=data["id"],
            route=data["route"],
            language=Language(data["language"]),
            recipient=Recipient(
                role=Role(recipient["role"]),
                nrp=recipient["nrp"],
                name=recipient["name"],
                contacts=recipient["contacts"],
            ),
            title=data["title"],
            body=data["body"],
            digest_day=None if data["digest_day"] is None else dt.date.fromisoformat(data["digest_day"]),
            findings=tuple(NoticeFinding.from_json(f) for f in data["findings"]),
        )
