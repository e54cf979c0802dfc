"""flask-smorest's Api with our error shape and the bearer security scheme, and the
Blueprint every feature declares its routes on."""

from collections.abc import Iterator
from typing import Any

import flask
import flask_smorest
import marshmallow as ma
from flask import Flask
from flask_smorest import Api
from webargs.flaskparser import FlaskParser
from werkzeug.exceptions import HTTPException

from app.core.errors import ErrorResponse, ErrorSchema, http_error_response

UNSTORABLE_TEXT = "Text may not contain NUL characters or unpaired surrogates."


def _is_storable(text: str) -> bool:
    """PostgreSQL text cannot hold NUL, and a lone surrogate has no UTF-8 encoding."""
    if "\x00" in text:
        return False
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


def _unstorable_paths(value: object, path: str) -> Iterator[str]:
    if isinstance(value, str):
        if not _is_storable(value):
            yield path or "_schema"
    elif isinstance(value, dict):
        for key, inner in value.items():
            yield from _unstorable_paths(inner, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            yield from _unstorable_paths(inner, f"{path}.{index}" if path else str(index))


class StorableTextParser(FlaskParser):
    """Refuses input text the database cannot store (422) before any schema sees it, so
    no field of any feature can turn such text into a database error (500)."""

    def _load_location_data(self, *, schema: ma.Schema, req: flask.Request, location: str) -> Any:
        data = super()._load_location_data(schema=schema, req=req, location=location)
        raw = {"query": req.args, "form": req.form}.get(location)
        values = data if raw is None else {key: ", ".join(texts) for key, texts in raw.lists()}
        paths = list(_unstorable_paths(values, ""))
        if paths:
            raise ma.ValidationError({path: [UNSTORABLE_TEXT] for path in paths})
        return data


class Blueprint(flask_smorest.Blueprint):
    ARGUMENTS_PARSER = StorableTextParser()


class OpenWearablesApi(Api):
    ERROR_SCHEMA = ErrorSchema

    def handle_http_exception(self, error: HTTPException) -> ErrorResponse:
        return http_error_response(error)

    def init_app(self, app: Flask, *, spec_kwargs: dict[str, Any] | None = None) -> None:
        super().init_app(app, spec_kwargs=spec_kwargs)
        self.spec.components.security_scheme(
            "bearerAuth",
            {
                "type": "http",
                "scheme": "bearer",
                "description": "A developer access token, an SDK token or an API key "
                "(`ow_live_…`/`ow_test_…`).",
            },
        )
        self.spec.components.security_scheme(
            "apiKeyHeader",
            {"type": "apiKey", "in": "header", "name": "X-Open-Wearables-API-Key"},
        )
