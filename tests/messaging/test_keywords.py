import pytest

from pro_server.messaging.keywords import (
    InboundKind,
    classify_inbound,
    is_twilio_default_keyword,
    normalize,
)

STOP = InboundKind.STOP
START = InboundKind.START
HELP = InboundKind.HELP
MAYBE = InboundKind.POSSIBLE_OPT_OUT
OTHER = InboundKind.OTHER


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        # Twilio's default opt-out keywords, any case, with stray spaces and punctuation
        ("STOP", STOP),
        ("stop", STOP),
        ("  Stop. ", STOP),
        ("STOP!!!", STOP),
        ("StopAll", STOP),
        ("UNSUBSCRIBE", STOP),
        ("cancel", STOP),
        ("End", STOP),
        ("quit", STOP),
        ("REVOKE", STOP),
        ("optout", STOP),
        ("opt out", STOP),
        ("Opt-Out", STOP),
        ("stop all", STOP),
        ("\nSTOP\n", STOP),
        # Spanish, accents and case folded
        ("PARAR", STOP),
        ("Para", STOP),
        ("alto", STOP),
        ("Baja", STOP),
        ("CANCELAR", STOP),
        ("Cancelár!", STOP),
        ("detener", STOP),
        ("darme de baja", STOP),
        # opt back in
        ("START", START),
        ("start.", START),
        ("Unstop", START),
        ("YES", START),
        ("yes!", START),
        ("INICIO", START),
        ("Inicio", START),
        ("COMENZAR", START),
        ("sí", START),
        ("SI", START),
        # help
        ("HELP", HELP),
        ("help?", HELP),
        ("INFO", HELP),
        ("Ayuda", HELP),
        ("AYUDA!", HELP),
        ("información", HELP),
        # keyword not the whole message: free text, flagged when it reads like an opt-out
        ("Stop texting me", MAYBE),
        ("please stop", MAYBE),
        ("STOP PLEASE", MAYBE),
        ("no more messages", MAYBE),
        ("No more texts please", MAYBE),
        ("Don't text me again", MAYBE),
        ("do not contact me", MAYBE),
        ("remove me from this list", MAYBE),
        ("take me off your list", MAYBE),
        ("I want to opt out", MAYBE),
        ("unsubscribe me", MAYBE),
        ("leave me alone", MAYBE),
        ("I don't want these reminders anymore", MAYBE),
        ("cancel my reminders", MAYBE),
        ("No más mensajes", MAYBE),
        ("no mas mensajes por favor", MAYBE),
        ("Dejen de escribirme", MAYBE),
        ("deje de enviarme mensajes", MAYBE),
        ("ya no quiero recibir esto", MAYBE),
        ("No me escriban más", MAYBE),
        ("quiero darme de baja", MAYBE),
        ("Quítenme de la lista", MAYBE),
        ("basta ya", MAYBE),
        # everything else
        ("", OTHER),
        ("   ", OTHER),
        (None, OTHER),
        ("Thanks!", OTHER),
        ("ok", OTHER),
        ("no", OTHER),
        ("What time is my appointment?", OTHER),
        ("I need to cancel my appointment", OTHER),
        ("help me log in please", OTHER),
        ("¿A qué hora es mi cita?", OTHER),
        ("Gracias", OTHER),
        ("stopped", OTHER),
        ("ending soon?", OTHER),
        ("help me", OTHER),
    ],
)
def test_classify_inbound(body, expected):
    assert classify_inbound(body) is expected


def test_normalize_folds_case_accents_and_punctuation():
    assert normalize("  ¡No MÁS   mensajes!! ") == "no mas mensajes"
    assert normalize("Cancelár.") == "cancelar"
    assert normalize("ＳＴＯＰ") == "stop"  # full-width letters from some phone keyboards


@pytest.mark.parametrize(
    ("body", "expected"),
    [("STOP", True), (" stop ", True), ("Info", True), ("baja", False), ("stop please", False)],
)
def test_twilio_default_keywords(body, expected):
    assert is_twilio_default_keyword(body) is expected
