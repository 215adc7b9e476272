"""The built-in notifiers: ``file:///path`` (JSON lines), ``log://`` (Python logging) and ``memory://`` (tests)."""

from __future__ import annotations

import logging
import os
import threading
import urllib.parse
from collections import defaultdict
from typing import TYPE_CHECKING, ClassVar

if TYPE_CHECKING:  # for the annotations only: a command that sends nothing need not import routing
    from community_policing.routing.notices import Notice

__all__ = ["LOGGER", "FileNotifier", "LogNotifier", "MemoryNotifier"]

LOGGER = "community_policing.notices"
"""The logger the ``log://`` notifier writes to."""


class FileNotifier:
    """``file:///path``: appends each notice as one line of JSON, flushed and fsynced before it counts as sent."""

    name: str = "file"
    schemes: tuple[str, ...] = ("file",)
    description: str = (
        "appends each notice as a JSON line to a file, e.g. file:///var/lib/community-policing/notices.jsonl"
    )
    requires: tuple[str, ...] = ()

    def __init__(self) -> None:
        self._lock = threading.Lock()

    @staticmethod
    def path_of(url: str) -> str:
        """The file a ``file:///path`` URL names."""
        parsed = urllib.parse.urlsplit(url)
        if parsed.netloc not in ("", "localhost") or not parsed.path:
            raise ValueError(f"{url!r} is not a file URL such as file:///var/lib/notices.jsonl")
        return urllib.parse.unquote(parsed.path)

    def send(self, notice: Notice, url: str, *, timeout: float) -> str | None:
        """Append `notice` to the file; a path that cannot be written is a failed attempt."""
        try:
            path = self.path_of(url)
        except ValueError as error:
            return str(error)
        line = (notice.dumps() + "\n").encode("utf-8")
        try:
            with self._lock:
                descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
                try:
                    os.write(descriptor, line)
                    os.fsync(descriptor)
                finally:
                    os.close(descriptor)
        except OSError as error:
            return f"cannot append to {path}: {error.strerror or error}"
        return None


class LogNotifier:
    """``log://``: logs each notice's title and body at INFO on the logger ``community_policing.notices``."""

    name: str = "log"
    schemes: tuple[str, ...] = ("log",)
    description: str = f"logs each notice on the Python logger {LOGGER!r}"
    requires: tuple[str, ...] = ()

    def send(self, notice: Notice, url: str, *, timeout: float) -> str | None:
        """Log `notice` (its id, route, recipient NRP, title and body)."""
        logging.getLogger(LOGGER).info(
            "notice %s (route %s) to %s: %s\n%s",
            notice.id,
            notice.route,
            notice.recipient.nrp,
            notice.title,
            notice.body,
        )
        return None


class MemoryNotifier:
    """``memory://NAME``: keeps each notice in `sent[NAME]`, in this process (for tests and examples)."""

    name: str = "memory"
    schemes: tuple[str, ...] = ("memory",)
    description: str = "keeps notices in memory, in this process (for tests)"
    requires: tuple[str, ...] = ()

    sent: ClassVar[defaultdict[str, list[Notice]]] = defaultdict(list)
    """Every notice sent, by the URL's host part (``memory://inbox`` keeps them under ``"inbox"``)."""

    _lock: ClassVar[threading.Lock] = threading.Lock()

    def send(self, notice: Notice, url: str, *, timeout: float) -> str | None:
        """Keep `notice` under the URL's name."""
        with self._lock:
            self.sent[urllib.parse.urlsplit(url).netloc].append(notice)
        return None
