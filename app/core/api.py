"""flask-smorest's Api with our error shape and the bearer security scheme, and the
Blueprint every feature declares its routes on."""

import http
import json
from collections.abc import Iterator
from typing import Any

import flask
import flask_smorest
import marshmallow as ma
from flask import Flask
from flask.json.provider import DefaultJSONProvider
from flask_smorest import Api
from swagger_ui_bundle import swagger_ui_path
from webargs.flaskparser import FlaskParser, is_json_request
from werkzeug.exceptions import HTTPException

from app.core.errors import ApiError, ErrorResponse, ErrorSchema, http_error_response
from app.core.openapi import (
    DEFAULT_ERROR,
    ResponseHeadersPlugin,
    error_response,
    register_headers,
)

UNSTORABLE_TEXT = "Text may not contain NUL characters or unpaired surrogates."
NOT_JSON = "Send the body as JSON (Content-Type: application/json)."


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


TOO_DEEP = "JSON nested too deeply"
"""Arrays or objects nested past Python's recursion limit: a few kilobytes of brackets
fit in any body or header, and the decoder would raise RecursionError (a 500, and in a
limiter's key function a switch of that process to in-memory counters)."""


class NestingSafeJSONProvider(DefaultJSONProvider):
    """`request.get_json` and `flask.json.loads`: too deep a document is invalid JSON
    (ValueError, so `get_json` answers 400, or None when silent)."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        try:
            return super().loads(s, **kwargs)
        except RecursionError as error:
            raise ValueError(TOO_DEEP) from error


class StorableTextParser(FlaskParser):
    """Refuses input text the database cannot store (422) before any schema sees it, so
    no field of any feature can turn such text into a database error (500); a body
    nested too deeply is invalid JSON (400), as it is for `request.get_json`; a body of
    another type where JSON is expected is a 415."""

    def _raw_load_json(self, req: flask.Request) -> Any:
        try:
            return super()._raw_load_json(req)
        except RecursionError as error:
            # A document, not "": webargs takes an empty one for a missing body.
            raise json.JSONDecodeError(TOO_DEEP, TOO_DEEP, 0) from error

    def _load_location_data(self, *, schema: ma.Schema, req: flask.Request, location: str) -> Any:
        if location == "json" and req.get_data(cache=True) and not is_json_request(req):
            # webargs reads such a body as no body: `{"email": …}` sent as text/plain
            # would create a user with every field empty. ("json_or_form" takes forms.)
            raise ApiError(415, NOT_JSON)
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
    DEFAULT_ERROR_RESPONSE_NAME = DEFAULT_ERROR

    def _register_responses(self) -> None:
        """flask-smorest's shared error responses, with the headers they carry."""
        register_headers(self.spec)
        responses: list[tuple[str, int | str]] = [
            (status.name, status.value) for status in http.HTTPStatus if status >= 400
        ]
        for name, status in [*responses, (DEFAULT_ERROR, "default")]:
            response = error_response(status, limited=True, schema=self.ERROR_SCHEMA)
            self.spec.components.response(name, response, lazy=True)

    def handle_http_exception(self, error: HTTPException) -> ErrorResponse:
        return http_error_response(error)

    def init_app(self, app: Flask, *, spec_kwargs: dict[str, Any] | None = None) -> None:
        spec_kwargs = {"extra_plugins": [ResponseHeadersPlugin()], **(spec_kwargs or {})}
        super().init_app(app, spec_kwargs=spec_kwargs)
        app.after_request(_no_content_type_without_content)
        if app.config["OPENAPI_URL_PREFIX"] is not None:
            _serve_swagger_ui_assets(app)
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


def _serve_swagger_ui_assets(app: flask.Flask) -> None:
    """Swagger UI's scripts and styles from the pinned swagger-ui-bundle package, so
    `/docs` works without internet access and never loads code from a CDN."""
    assets = flask.Blueprint(
        "api-docs-assets",
        __name__,
        static_folder=swagger_ui_path,
        static_url_path=app.config["OPENAPI_SWAGGER_UI_URL"].rstrip("/"),
    )
    app.register_blueprint(assets)


def _no_content_type_without_content(response: flask.Response) -> flask.Response:
    # A 204 has no body, so nothing for a Content-Type to describe (Flask adds text/html).
    if response.status_code == 204:
        response.headers.pop("Content-Type", None)
    return response
