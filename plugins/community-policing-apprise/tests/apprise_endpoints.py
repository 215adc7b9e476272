"""Real endpoints on 127.0.0.1 for the Apprise plugin's tests: a JSON webhook (HTTP) and an SMTP server (aiosmtpd)."""

from __future__ import annotations

import email
import email.policy
import http.server
import json
import socket
import threading

from aiosmtpd.controller import Controller


class Webhook:
    """An HTTP server that keeps the JSON body of every POST (what Apprise's ``json://`` sends)."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, object]] = []
        received = self.bodies

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                received.append(json.loads(self.rfile.read(length)))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def texts(self) -> list[str]:
        return [f"{body.get('title')}\n{body.get('message')}" for body in self.bodies]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Mailbox:
    """A local SMTP server (aiosmtpd) that keeps every message: recipients, subject and text."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], str, str]] = []
        messages = self.messages

        class Handler:
            async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
                parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)  # type: ignore[attr-defined]
                part = parsed.get_body(preferencelist=("plain",))
                text = part.get_content() if part is not None else ""
                messages.append((list(envelope.rcpt_tos), str(parsed["Subject"]), text))  # type: ignore[attr-defined]
                return "250 Message accepted"

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def texts(self) -> list[str]:
        return [f"{subject}\n{text}" for _, subject, text in self.messages]

    def close(self) -> None:
        self.controller.stop()


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (taken and released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
