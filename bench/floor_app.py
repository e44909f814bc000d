"""The floor of bench/participant_load.py: a bare Flask app that stores each request's JSON
body with one INSERT (SQLAlchemy engine, default pool, like the project) and answers 200.

Served by gunicorn with the project's own settings (deploy/gunicorn.conf.py):
`FLOOR_DATABASE_URL=... gunicorn -c deploy/gunicorn.conf.py --chdir bench floor_app:app`.
"""

from __future__ import annotations

import os

from flask import Flask, jsonify, request
from sqlalchemy import create_engine, text

engine = create_engine(os.environ["FLOOR_DATABASE_URL"], pool_pre_ping=True)
app = Flask(__name__)


@app.route("/floor", methods=["POST"])
def floor():  # type: ignore[no-untyped-def]
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO floor_row (payload) VALUES (:payload)"),
                     {"payload": request.get_data(as_text=True)})
    return jsonify(ok=True)
