"""An "add to calendar" file for a virtual visit, in the participant's time zone (RFC 5545)."""

from __future__ import annotations

from datetime import datetime, timedelta
from urllib.parse import urlsplit

from icalendar import Alarm, Calendar, Event

from pro_server.local_time import utc_to_local
from pro_server.participants.models import Participant
from pro_server.schedule.models import Visit

TEXT = {
    "en": {"phone": "Study visit (phone call)", "video": "Study visit (video call)",
           "call": "Your study team will call you.", "join": "Join the video call:",
           "reminder": "Study visit in 1 hour"},
    "es": {"phone": "Visita del estudio (llamada telefónica)",
           "video": "Visita del estudio (videollamada)",
           "call": "Su equipo del estudio le llamará.", "join": "Únase a la videollamada:",
           "reminder": "Visita del estudio en 1 hora"},
}


def visit_calendar(visit: Visit, participant: Participant, *, lang: str, public_base_url: str,
                   stamp: datetime) -> bytes:
    text = TEXT.get(lang, TEXT["en"])
    tz = participant.timezone
    start = utc_to_local(visit.starts_at, tz)
    program = participant.study.program_name
    lines = [program, text["call"] if visit.mode == "phone" else ""]
    if visit.mode == "video" and visit.join_url:
        lines = [program, f"{text['join']} {visit.join_url}"]
    host = urlsplit(public_base_url).hostname or "pro-server"

    event = Event()
    event.add("uid", f"visit-{visit.id}@{host}")
    event.add("sequence", visit.revision)
    event.add("dtstamp", stamp)
    event.add("dtstart", start)
    event.add("dtend", start + timedelta(minutes=visit.duration_minutes))
    event.add("summary", text[visit.mode] if visit.mode in ("phone", "video") else text["phone"])
    event.add("description", "\n".join(line for line in lines if line))
    if visit.mode == "video" and visit.join_url:
        event.add("location", visit.join_url)
    alarm = Alarm()
    alarm.add("action", "DISPLAY")
    alarm.add("description", text["reminder"])
    alarm.add("trigger", timedelta(hours=-1))
    event.add_component(alarm)

    calendar = Calendar()
    calendar.add("prodid", "-//pro-server//participant pages//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    calendar.add_component(event)
    calendar.add_missing_timezones(first_date=start.date() - timedelta(days=366),
                                   last_date=start.date() + timedelta(days=366))
    return calendar.to_ical()
