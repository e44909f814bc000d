import pytest

from pro_server.messaging.purposes import (
    MessageStatus,
    Purpose,
    TargetKind,
    monotonic_next,
    outbox_status_from_provider,
    target_kind_for,
)


@pytest.mark.parametrize(
    ("current", "incoming", "expected"),
    [
        # Twilio's own sequence moves forward
        ("queued", "sending", "sending"),
        ("accepted", "sent", "sent"),
        ("sending", "sent", "sent"),
        ("sent", "delivered", "delivered"),
        ("sent", "undelivered", "undelivered"),
        ("queued", "failed", "failed"),
        # late or repeated callbacks never move back
        ("sent", "sending", "sent"),
        ("sent", "queued", "sent"),
        ("sent", "sent", "sent"),
        ("delivered", "sent", "delivered"),
        ("delivered", "delivered", "delivered"),
        # terminal states stay, whichever came first
        ("delivered", "undelivered", "delivered"),
        ("undelivered", "delivered", "undelivered"),
        ("failed", "delivered", "failed"),
        # outbox statuses on the same scale
        ("pending", "sent", "sent"),
        ("sending", "delivered", "delivered"),
        ("cancelled", "sent", "cancelled"),
        ("suppressed", "delivered", "suppressed"),
        # unknown or empty incoming status: unchanged
        ("sent", "receiving", "sent"),
        ("sent", None, "sent"),
        ("sent", "", "sent"),
        # case and whitespace tolerant
        ("sent", " Delivered ", "delivered"),
    ],
)
def test_monotonic_next(current, incoming, expected):
    assert monotonic_next(current, incoming) == expected


def test_outbox_status_from_provider():
    assert outbox_status_from_provider("queued") is MessageStatus.SENT
    assert outbox_status_from_provider("accepted") is MessageStatus.SENT
    assert outbox_status_from_provider("sending") is MessageStatus.SENT
    assert outbox_status_from_provider("delivered") is MessageStatus.DELIVERED
    assert outbox_status_from_provider("undelivered") is MessageStatus.UNDELIVERED
    assert outbox_status_from_provider("failed") is MessageStatus.FAILED
    assert outbox_status_from_provider("canceled") is MessageStatus.CANCELLED
    assert outbox_status_from_provider("received") is None
    assert outbox_status_from_provider(None) is None


def test_outbox_row_applies_callbacks_in_any_order():
    status = MessageStatus.SENDING.value
    for callback in ["delivered", "sent", "sending", "queued"]:  # out of order
        status = monotonic_next(status, outbox_status_from_provider(callback))
    assert status == MessageStatus.DELIVERED


def test_target_kinds():
    assert target_kind_for(Purpose.SURVEY_REMINDER) is TargetKind.ASSESSMENT
    assert target_kind_for("visit_reminder_1h") is TargetKind.VISIT
    assert target_kind_for(Purpose.HELP_REPLY) is TargetKind.PARTICIPANT
