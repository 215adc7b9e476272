"""Routing: turning findings into notices (routes in TOML, recipients, messages in Indonesian and English)."""

from __future__ import annotations

from community_policing.routing.messages import Messages, render_notice
from community_policing.routing.notices import Language, Notice, NoticeFinding, Recipient, Role, notice_id
from community_policing.routing.recipients import Routed, Router, route_findings
from community_policing.routing.routes import Route, RouteError, Routes, parse_routes, read_routes

__all__ = [
    "Language",
    "Messages",
    "Notice",
    "NoticeFinding",
    "Recipient",
    "Role",
    "Route",
    "RouteError",
    "Routed",
    "Router",
    "Routes",
    "notice_id",
    "parse_routes",
    "read_routes",
    "render_notice",
    "route_findings",
]
