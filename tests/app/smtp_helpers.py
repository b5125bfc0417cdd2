"""A real SMTP server on 127.0.0.1 (aiosmtpd) for tests that send e-mail."""

from __future__ import annotations

import socket
from email import message_from_bytes
from email.policy import default


class Inbox:
    """Keeps every envelope the server received."""

    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.messages.append(envelope)
        return "250 OK"

    def bodies(self, email: str, kind: str = "plain") -> list[str]:
        """Subject and decoded body (plain or html) of each message to one address."""
        found = []
        for envelope in self.messages:
            if email in envelope.rcpt_tos:
                message = message_from_bytes(envelope.content, policy=default)
                found.append(message["Subject"] + "\n" + message.get_body((kind,)).get_content())
        return found


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
