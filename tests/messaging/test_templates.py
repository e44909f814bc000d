from datetime import UTC, datetime, timedelta

import pytest

from pro_server.messaging.purposes import Purpose
from pro_server.messaging.templates import (
    MAX_SEGMENTS,
    PROGRAM_NAME_MAX_LEN,
    encoding,
    format_deadline,
    format_local_datetime,
    normalize_language,
    opt_out_notice_due,
    render,
    segment_count,
    validate_program_name,
)

NY = "America/New_York"
SAMPLE = {
    "program_name": "MyoStudy",
    "site_phone": "305-555-0123",
    "link": "https://pro.example.org/p/Ab3dE5gH7jK9",
}
# The longest values the texts are budgeted for: configured program name at its limit,
# a formatted phone, a 60-character participant link, the longest dates.
WORST = {
    "program_name": "X" * PROGRAM_NAME_MAX_LEN,
    "site_phone": "+1 (305) 555-0123",
    "link": "https://" + "p" * 52,
}
LONGEST_DATE_UTC = datetime(2026, 9, 30, 16, 59, tzinfo=UTC)  # Wed Sep 30, 12:59 local

CLINICAL_WORDS = [
    # English
    "myositis",
    "dermatomyositis",
    "polymyositis",
    "diagnos",
    "infusion",
    "stem cell",
    "placebo",
    "ulsc",
    "treatment",
    "therapy",
    "drug",
    "medic",
    "dose",
    "steroid",
    "prednisone",
    "symptom",
    "pain",
    "disease",
    "muscle",
    "cancer",
    "clinic",
    # Spanish
    "miositis",
    "infusi",
    "celulas",
    "células",
    "tratamiento",
    "terapia",
    "medicamento",
    "dosis",
    "esteroide",
    "sintoma",
    "síntoma",
    "dolor",
    "enfermedad",
    "musculo",
    "músculo",
]


def texts_for(lang, values, include_opt_out=True, when=LONGEST_DATE_UTC):
    return {
        purpose: render(
            purpose,
            lang,
            **values,
            local_deadline_text=format_deadline(when, NY, lang),
            visit_time_text=format_local_datetime(when, NY, lang),
            include_opt_out=include_opt_out,
        )
        for purpose in Purpose
    }


@pytest.mark.parametrize("lang", ["en", "es"])
def test_every_purpose_renders_without_clinical_words(lang):
    for purpose, text in texts_for(lang, SAMPLE).items():
        lowered = text.lower()
        assert SAMPLE["program_name"] in text
        if purpose is not Purpose.OPT_IN_CONFIRMATION:
            assert SAMPLE["site_phone"] in text
        for word in CLINICAL_WORDS:
            assert word not in lowered, (purpose, word)
        assert "{" not in text
        assert "  " not in text


@pytest.mark.parametrize("lang", ["en", "es"])
def test_links_where_needed(lang):
    texts = texts_for(lang, SAMPLE)
    for purpose in Purpose:
        if purpose not in (
            Purpose.VISIT_CANCELLED,
            Purpose.OPT_OUT_CONFIRMATION,
            Purpose.OPT_IN_CONFIRMATION,
        ):
            assert SAMPLE["link"] in texts[purpose], purpose


@pytest.mark.parametrize("lang", ["en", "es"])
def test_segments_gsm7_and_at_most_two_even_at_worst_lengths(lang):
    for purpose, text in texts_for(lang, WORST).items():
        assert encoding(text) == "GSM-7", (purpose, text)
        assert segment_count(text) <= MAX_SEGMENTS, (purpose, len(text), text)


def test_segment_count_stated_for_samples():
    # Sample values, opt-out line included: the replies fit one segment, reminders two.
    counts = {
        lang: {
            purpose.value: segment_count(text) for purpose, text in texts_for(lang, SAMPLE).items()
        }
        for lang in ("en", "es")
    }
    assert counts["en"] == {
        "window_opened": 2,
        "survey_reminder": 2,
        "last_day": 2,
        "visit_reminder_24h": 2,
        "visit_reminder_1h": 2,
        "visit_changed": 2,
        "visit_cancelled": 2,
        "help_reply": 1,
        "opt_out_confirmation": 1,
        "opt_in_confirmation": 1,
    }
    assert counts["es"] == {
        "window_opened": 2,
        "survey_reminder": 2,
        "last_day": 2,
        "visit_reminder_24h": 2,
        "visit_reminder_1h": 2,
        "visit_changed": 2,
        "visit_cancelled": 2,
        "help_reply": 2,
        "opt_out_confirmation": 1,
        "opt_in_confirmation": 1,
    }
    # Without the opt-out line the English window-opened text fits a single segment.
    short = texts_for("en", SAMPLE, include_opt_out=False)[Purpose.WINDOW_OPENED]
    assert segment_count(short) == 1


@pytest.mark.parametrize(
    ("lang", "line"),
    [
        ("en", "Reply STOP to opt out"),
        ("es", "Responda STOP para no recibir mensajes"),
    ],
)
def test_opt_out_line_only_when_asked(lang, line):
    with_line = texts_for(lang, SAMPLE, include_opt_out=True)
    without = texts_for(lang, SAMPLE, include_opt_out=False)
    for purpose in (
        Purpose.WINDOW_OPENED,
        Purpose.SURVEY_REMINDER,
        Purpose.LAST_DAY,
        Purpose.VISIT_REMINDER_24H,
        Purpose.VISIT_REMINDER_1H,
        Purpose.VISIT_CHANGED,
        Purpose.VISIT_CANCELLED,
    ):
        assert line in with_line[purpose]
        assert line not in without[purpose]
    # HELP and opt-in always say how to stop; the opt-out confirmation says how to restart.
    for texts in (with_line, without):
        assert line in texts[Purpose.HELP_REPLY]
        assert line in texts[Purpose.OPT_IN_CONFIRMATION]
        assert "STOP" not in texts[Purpose.OPT_OUT_CONFIRMATION]
        assert "START" in texts[Purpose.OPT_OUT_CONFIRMATION]


def test_exact_english_and_spanish_texts():
    when = datetime(2026, 3, 10, 14, 30, tzinfo=UTC)  # 10:30 EDT
    common = {**SAMPLE, "include_opt_out": False}
    assert render(
        Purpose.VISIT_REMINDER_1H,
        "en",
        **common,
        visit_time_text=format_local_datetime(when, NY, "en"),
    ) == (
        "MyoStudy: your study appointment starts in about 1 hour (Tue, Mar 10, 10:30 AM). "
        "Details: https://pro.example.org/p/Ab3dE5gH7jK9 Need help? Call 305-555-0123."
    )
    assert render(
        Purpose.VISIT_REMINDER_1H,
        "es-US",
        **common,
        visit_time_text=format_local_datetime(when, NY, "es"),
    ) == (
        "MyoStudy: su cita del estudio empieza en 1 hora aproximadamente "
        "(10 de marzo, 10:30 de la mañana). Detalles: https://pro.example.org/p/Ab3dE5gH7jK9 "
        "¿Necesita ayuda? Llame al 305-555-0123."
    )


def test_help_reply_for_unknown_sender_has_no_link():
    text = render(
        Purpose.HELP_REPLY,
        "en",
        program_name="MyoStudy",
        site_phone="305-555-0123",
        link=None,
        include_opt_out=False,
    )
    assert text == (
        "MyoStudy: for help, call 305-555-0123. Msg&data rates may apply. Reply STOP to opt out."
    )


def test_window_opened_without_deadline():
    text = render(Purpose.WINDOW_OPENED, "es", **SAMPLE, include_opt_out=False)
    assert text == (
        "MyoStudy: tiene un cuestionario nuevo. https://pro.example.org/p/Ab3dE5gH7jK9 "
        "¿Preguntas? Llame al 305-555-0123."
    )


@pytest.mark.parametrize(
    ("purpose", "missing"),
    [
        (Purpose.SURVEY_REMINDER, "local_deadline_text"),
        (Purpose.VISIT_REMINDER_24H, "visit_time_text"),
        (Purpose.VISIT_CHANGED, "link"),
    ],
)
def test_missing_values_raise(purpose, missing):
    values = {
        **SAMPLE,
        "local_deadline_text": "Mar 13",
        "visit_time_text": "Mar 10",
        "include_opt_out": False,
    }
    values[missing] = None
    with pytest.raises(ValueError, match=missing.split("_")[0]):
        render(purpose, "en", **values)


def test_language_normalization():
    assert normalize_language("es_MX") == "es"
    assert normalize_language("ES-us") == "es"
    assert normalize_language("fr") == "en"
    assert normalize_language(None) == "en"


def test_segment_count_rules():
    assert segment_count("a" * 160) == 1
    assert segment_count("a" * 161) == 2
    assert segment_count("a" * 306) == 2
    assert segment_count("a" * 307) == 3
    assert segment_count("€" * 80) == 1  # extended characters take two septets
    assert segment_count("€" * 81) == 2
    assert encoding("mañana ¿sí?") == "UCS-2"  # í is not GSM-7
    assert encoding("mañana ¿qué?") == "GSM-7"  # ñ, é, ¿ are
    assert segment_count("á" * 70) == 1
    assert segment_count("á" * 71) == 2
    assert segment_count("á" * 134) == 2
    assert segment_count("á" * 135) == 3


def test_validate_program_name():
    assert validate_program_name("  MyoStudy ") == "MyoStudy"
    with pytest.raises(ValueError, match="longer"):
        validate_program_name("X" * (PROGRAM_NAME_MAX_LEN + 1))
    with pytest.raises(ValueError, match="GSM-7"):
        validate_program_name("Estudio Miosítico")
    with pytest.raises(ValueError, match="empty"):
        validate_program_name("  ")


def test_dates_follow_local_time_across_dst():
    before = datetime(2026, 3, 6, 14, 30, tzinfo=UTC)  # EST
    after = datetime(2026, 3, 10, 14, 30, tzinfo=UTC)  # EDT
    assert format_local_datetime(before, NY, "en") == "Fri, Mar 6, 9:30 AM"
    assert format_local_datetime(after, NY, "en") == "Tue, Mar 10, 10:30 AM"
    assert format_local_datetime(after, NY, "es") == "10 de marzo, 10:30 de la mañana"
    assert format_local_datetime(datetime(2026, 3, 10, 23, 0, tzinfo=UTC), NY, "es") == (
        "10 de marzo, 7:00 de la noche"
    )


def test_deadline_at_local_midnight_reads_as_end_of_previous_day():
    midnight = datetime(2026, 3, 14, 4, 0, tzinfo=UTC)  # 00:00 EDT on Mar 14
    assert format_deadline(midnight, NY, "en") == "Fri, Mar 13, 11:59 PM"
    assert format_deadline(midnight, NY, "es") == "13 de marzo, 11:59 de la noche"
    assert format_deadline(midnight + timedelta(hours=20), NY, "en") == "Sat, Mar 14, 8:00 PM"


def test_opt_out_notice_due():
    now = datetime(2026, 3, 10, 15, tzinfo=UTC)
    assert opt_out_notice_due(None, None, now)  # first message
    assert not opt_out_notice_due(3, now - timedelta(days=2), now)
    assert opt_out_notice_due(10, now - timedelta(days=2), now)
    assert opt_out_notice_due(1, now - timedelta(days=30), now)
