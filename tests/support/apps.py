"""Apps a test builds itself, and what they stored."""

import uuid

from flask import Flask
from sqlalchemy import inspect, text

from app.extensions import db


def close_app(app: Flask) -> None:
    """Release the pooled connections of an app a test built itself."""
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    store = app.extensions["owa_store"]
    if hasattr(store, "client"):
        store.client.close()


def all_rows_text(app: Flask) -> str:
    """Every row of every table, as one string, to search for leaked secrets."""
    chunks = []
    with app.app_context():
        for name in inspect(db.engine).get_table_names():
            for row in db.session.execute(text(f'SELECT * FROM "{name}"')):
                chunks.append(repr(tuple(row)))
        db.session.remove()
    return "\n".join(chunks)


def random_uuid() -> str:
    return str(uuid.uuid4())
