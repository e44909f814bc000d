"""How a message reaches a participant, and the reminder channels they chose: which ones,
in which order, and the next to fall back to when one cannot deliver.

Stored on the participant as "push,sms" (order = preference). Every reminder purpose goes
out on the first channel; when that channel cannot deliver (no active push subscription,
the push service refuses, SMS opted out...) the dispatcher queues the same message on the
next one. Replies to inbound texts (HELP, STOP confirmations) are SMS whatever the choice.
"""

from __future__ import annotations

from enum import StrEnum

from pro_server.config import Settings


class Channel(StrEnum):
    """How a message reaches a participant: the reminder channels they may choose, and the
    notice on their page."""

    SMS = "sms"
    PUSH = "push"  # Web Push to the participant's installed page (messaging.push)
    EMAIL = "email"  # to the participant's email address (messaging.mail)
    WEB = "web"  # a notice on the participant's page

    @property
    def label(self) -> str:
        """The channel as staff read it in a reason ("sent by SMS instead")."""
        return {"sms": "SMS", "push": "push notification", "email": "email",
                "web": "page notice"}[self.value]


# Channels a participant may choose for reminders.
REMINDER_CHANNELS: tuple[Channel, ...] = (Channel.SMS, Channel.PUSH, Channel.EMAIL)
DEFAULT = (Channel.SMS,)


class ChannelChoiceError(ValueError):
    """A preference list that cannot be stored; the message is for the person choosing."""


def parse(stored: str | None) -> tuple[Channel, ...]:
    """The stored preference as channels (unknown names, from a later version, skipped)."""
    known = {c.value for c in REMINDER_CHANNELS}
    chosen = tuple(Channel(part) for part in (stored or "").split(",") if part in known)
    return chosen or DEFAULT


def available(settings: Settings) -> tuple[Channel, ...]:
    """The reminder channels this server can send on: push only with its VAPID keys, email
    only with an EMAIL_BACKEND."""
    on = {Channel.SMS: True,
          Channel.PUSH: bool(settings.vapid_private_key and settings.vapid_public_key),
          Channel.EMAIL: settings.email_backend != "none"}
    return tuple(c for c in REMINDER_CHANNELS if on[c])


def validate(names: list[str], settings: Settings) -> tuple[Channel, ...]:
    """Check a choice ("push", "sms") and return it as channels, in order."""
    if not names:
        raise ChannelChoiceError("Choose at least one channel")
    if len(set(names)) != len(names):
        raise ChannelChoiceError("Each channel may be listed once")
    allowed = {c.value for c in REMINDER_CHANNELS}
    for name in names:
        if name not in allowed:
            raise ChannelChoiceError(
                f"Unknown channel {name!r}; one of: {', '.join(sorted(allowed))}")
    if "push" in names and Channel.PUSH not in available(settings):
        raise ChannelChoiceError("Push notifications are not configured on this server")
    if "email" in names and Channel.EMAIL not in available(settings):
        raise ChannelChoiceError("Email is not configured on this server")
    return tuple(Channel(name) for name in names)


def stored(channels: tuple[Channel, ...]) -> str:
    return ",".join(c.value for c in channels)


def without(stored_value: str | None, channel: Channel) -> str:
    """The choice with `channel` taken out (the default when nothing else is left)."""
    return stored(tuple(c for c in parse(stored_value) if c is not channel) or DEFAULT)


def first(stored_value: str | None) -> Channel:
    return parse(stored_value)[0]


def after(stored_value: str | None, channel: Channel | str) -> Channel | None:
    """The channel to fall back to after `channel`; None when it was the last one. A row
    whose channel is no longer chosen falls back to the first chosen one."""
    order = parse(stored_value)
    if channel not in order:
        return order[0]
    index = order.index(Channel(channel))
    return order[index + 1] if index + 1 < len(order) else None
