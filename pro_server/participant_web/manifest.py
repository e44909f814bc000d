"""The participant app's web app manifest (installing /p on a phone's home screen).

The name is the study's program name for a signed-in participant, as the page shows it
(program names are checked not to name the condition, product or arm), else the page's
generic title. The start URL is the bare /p: the link's token never goes into the manifest,
so the installed app opens on the cookie session, or asks for the latest link.
"""

from __future__ import annotations

GENERIC_NAME = "Study Check-in"  # static/participant/i18n.js "app.program"
SHORT_NAME_MAX = 12  # home-screen labels cut longer names
THEME_COLOR = "#0b4f8a"  # static/participant/styles.css --brand
BACKGROUND_COLOR = "#ffffff"  # static/participant/styles.css --paper
ICONS = (
    {"src": "/p/assets/icons/icon-192.png", "sizes": "192x192", "type": "image/png"},
    {"src": "/p/assets/icons/icon-512.png", "sizes": "512x512", "type": "image/png"},
    {"src": "/p/assets/icons/icon-maskable-512.png", "sizes": "512x512", "type": "image/png",
     "purpose": "maskable"},
    {"src": "/p/assets/icons/icon.svg", "sizes": "any", "type": "image/svg+xml"},
)


def manifest(program_name: str | None) -> dict:
    name = (program_name or "").strip() or GENERIC_NAME
    return {
        "name": name,
        "short_name": name if len(name) <= SHORT_NAME_MAX else "Check-in",
        "id": "/p",
        "start_url": "/p",
        "scope": "/p",
        "display": "standalone",
        "orientation": "portrait",
        "theme_color": THEME_COLOR,
        "background_color": BACKGROUND_COLOR,
        "icons": [dict(icon) for icon in ICONS],
    }
