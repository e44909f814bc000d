"""One-click unsubscribe from email reminders (RFC 8058) at /e/unsubscribe/<token>.

A mail program POSTs `List-Unsubscribe=One-Click` to the List-Unsubscribe URL: no login, no
CSRF token (the signed token in the URL is the credential, made for one participant and
address). A GET only shows a small page with a button (EN/ES): mail scanners fetch links,
so a GET must never unsubscribe by itself.
"""

from __future__ import annotations

from html import escape

from flask import Blueprint, Response

from pro_server.context import Actor
from pro_server.extensions import csrf
from pro_server.messaging import mail
from pro_server.messaging.templates import normalize_language
from pro_server.participants.models import EmailFlag, Participant
from pro_server.static_files import content_security_policy
from pro_server.web import unit_of_work

blp = Blueprint("email_unsubscribe", __name__)
csrf.exempt(blp)

_TEXTS = {
    "en": {"title": "Stop reminders by email",
           "ask": "You will no longer get study reminders by email. Reminders you chose on "
                  "other channels (text message, notifications) continue.",
           "button": "Stop reminders by email",
           "done": "Done: you will no longer get study reminders by email.",
           "invalid": "This link is not valid any more."},
    "es": {"title": "Dejar de recibir recordatorios por correo",
           "ask": "Ya no recibirá recordatorios del estudio por correo electrónico. Los "
                  "recordatorios que eligió por otros medios (mensajes de texto, "
                  "notificaciones) siguen.",
           "button": "Dejar de recibir recordatorios por correo",
           "done": "Listo: ya no recibirá recordatorios del estudio por correo electrónico.",
           "invalid": "Este enlace ya no es válido."},
}
STYLES = "/p/assets/styles.css"  # the participant page's own look


def _page(language: str, body: str, status: int = 200) -> Response:
    texts = _TEXTS[language]
    html = (f'<!doctype html><html lang="{language}"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f'<meta name="robots" content="noindex"><title>{escape(texts["title"])}</title>'
            f'<link rel="stylesheet" href="{STYLES}">'
            f'</head><body><main><h1>{escape(texts["title"])}</h1>{body}</main></body></html>')
    response = Response(html, status=status, mimetype="text/html")
    response.headers["Content-Security-Policy"] = content_security_policy()
    response.headers["Cache-Control"] = "no-store"
    return response


def _invalid() -> Response:
    both = "".join(f'<p lang="{lang}">{escape(_TEXTS[lang]["invalid"])}</p>' for lang in _TEXTS)
    return _page("en", both, 404)


def _actor(p: Participant) -> Actor:
    return Actor(type="participant", id=str(p.id), label="email unsubscribe link")


@blp.get(f"{mail.UNSUBSCRIBE_PATH}<token>")
def confirm(token: str) -> Response:
    """The confirmation page: nothing changes until its button is pressed."""
    with unit_of_work(Actor.system("email unsubscribe page")) as ctx:
        p = mail.participant_of(ctx, token)
        if p is None:
            return _invalid()
        language = normalize_language(p.language)
        if p.email_flag == EmailFlag.UNSUBSCRIBED:
            return _page(language, f'<p>{escape(_TEXTS[language]["done"])}</p>')
    texts = _TEXTS[language]
    form = (f'<p>{escape(texts["ask"])}</p><form method="post">'
            '<input type="hidden" name="List-Unsubscribe" value="One-Click">'
            f'<button type="submit" class="button primary">{escape(texts["button"])}'
            '</button></form>')
    return _page(language, form)


@blp.post(f"{mail.UNSUBSCRIBE_PATH}<token>")
def one_click(token: str) -> Response:
    """RFC 8058's POST (from the mail program or the page's button): email stops."""
    with unit_of_work(Actor.system("email unsubscribe link")) as ctx:
        p = mail.participant_of(ctx, token)
        if p is None:
            return _invalid()
        ctx.actor = _actor(p)
        mail.unsubscribe(ctx, p)
        language = normalize_language(p.language)
    return _page(language, f'<p>{escape(_TEXTS[language]["done"])}</p>')
