"""A mail server on 127.0.0.1 (aiosmtpd) that keeps what it accepts, as a relay would.

Each message is parsed (the stdlib's email parser, default policy) and recorded when its
DATA arrives, before the server answers: like a real server that queued it, it has the
message even if the client never reads the "250" (`on_message` may hold that answer: a
gate). `refuse[address]` answers RCPT for that recipient with the given reply ("550 5.1.1
No such user", "451 4.3.0 Try again later"); `refuse_data[address]` answers DATA ("554
5.7.1 Message refused as spam").
"""

from __future__ import annotations

import asyncio
import socket
from collections import Counter
from collections.abc import Callable
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any

from aiosmtpd.controller import Controller


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class FakeSmtp:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.raw: list[bytes] = []  # each message as it came over the wire
        self.refuse: dict[str, str] = {}
        self.refuse_data: dict[str, str] = {}
        self.on_message: Callable[[EmailMessage], None] | None = None
        self.port = _free_port()
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        self._controller.stop()

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if m["To"] == address]

    def by_message_id(self) -> Counter[str]:
        """How often each Message-ID arrived (a copy sent again counts twice)."""
        return Counter(str(m["Message-ID"]) for m in self.messages)

    # -- aiosmtpd's handler hooks ----------------------------------------------------------

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          rcpt_options: list[str]) -> str:
        answer = self.refuse.get(address)
        if answer:
            return answer
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        for address in envelope.rcpt_tos:
            if self.refuse_data.get(address):
                return self.refuse_data[address]
        message = BytesParser(policy=policy.default).parsebytes(envelope.original_content)
        self.messages.append(message)  # type: ignore[arg-type]
        self.raw.append(envelope.original_content)
        if self.on_message is not None:
            await asyncio.get_running_loop().run_in_executor(None, self.on_message, message)
        return "250 2.0.0 Message accepted for delivery"
