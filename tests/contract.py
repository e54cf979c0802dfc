"""Every response the suite receives through Flask's test client is checked against the
app's own OpenAPI document: its status is documented for that operation, every header
the document marks `required` is there, and so is every `required` field of the body,
at any depth. `tests/conftest.py` hooks this into `FlaskClient.open` for the whole run,
so each test that makes a request is also a contract test.

Requests to paths or methods the document does not describe (404s, 405s, preflights)
are not operations and are not checked, nor is plain HTTP to the production profile
(answered before any operation: a redirect or 403 "HTTPS required"; the document
describes the API over HTTPS).
"""

import re
from functools import cache
from typing import Any

from flask import Flask
from werkzeug.test import TestResponse

# What an operation's `default` response stands for: errors no operation lists one by
# one (malformed JSON, wrong content type, body too large, a server or Redis failure).
COVERED_BY_DEFAULT = frozenset({400, 405, 413, 415, 500, 503})


class ContractViolationError(AssertionError):
    pass


@cache
def _path_patterns(paths: tuple[str, ...]) -> list[tuple[re.Pattern[str], str]]:
    patterns = []
    for path in paths:
        literal_parts = re.split(r"\{[^}]+\}", path)
        regex = "[^/]+".join(re.escape(part) for part in literal_parts)
        patterns.append((re.compile(regex + r"\Z"), path))
    # Literal paths first, so /users/me-like routes beat a template.
    return sorted(patterns, key=lambda item: item[1].count("{"))


def _resolve(spec: dict[str, Any], node: Any) -> Any:
    while isinstance(node, dict) and "$ref" in node:
        _, *names = node["$ref"].split("/")
        node = spec
        for name in names:
            node = node[name]
    return node


def spec_of(app: Flask) -> dict[str, Any]:
    cached = app.extensions.get("tests_openapi_document")
    if cached is None:
        api = app.extensions["flask-smorest"]["apis"][""]["ext_obj"]
        cached = app.extensions["tests_openapi_document"] = api.spec.to_dict()
    return cached


def find_operation(spec: dict[str, Any], method: str, path: str) -> dict[str, Any] | None:
    for pattern, template in _path_patterns(tuple(spec["paths"])):
        if pattern.match(path):
            return spec["paths"][template].get(method.lower())
    return None


def _missing_fields(spec: dict[str, Any], schema: Any, value: Any, where: str) -> list[str]:
    schema = _resolve(spec, schema)
    if value is None or not isinstance(schema, dict):
        return []
    missing = []
    if isinstance(value, dict):
        missing += [f"{where}.{name}" for name in schema.get("required", ()) if name not in value]
        for name, field in schema.get("properties", {}).items():
            if name in value:
                missing += _missing_fields(spec, field, value[name], f"{where}.{name}")
    elif isinstance(value, list) and "items" in schema:
        for index, item in enumerate(value):
            missing += _missing_fields(spec, schema["items"], item, f"{where}[{index}]")
    return missing


def violations(spec: dict[str, Any], method: str, path: str, response: TestResponse) -> list[str]:
    operation = find_operation(spec, method, path)
    if operation is None:
        return []
    status = response.status_code
    responses = operation["responses"]
    documented = responses.get(str(status))
    if documented is None and status in COVERED_BY_DEFAULT:
        documented = responses.get("default")
    if documented is None:
        return [f"status {status} is not documented (documented: {sorted(responses)})"]
    documented = _resolve(spec, documented)
    problems = [
        f"required header {name} is missing"
        for name, header in documented.get("headers", {}).items()
        if _resolve(spec, header).get("required") and name not in response.headers
    ]
    content = documented.get("content", {}).get("application/json")
    if content and response.is_json:
        problems += [
            f"required field {field} is missing"
            for field in _missing_fields(spec, content["schema"], response.get_json(), "body")
        ]
    elif content and status != 204:
        problems.append(f"documented a JSON body, got {response.content_type!r}")
    return problems


def check(app: Flask, method: str, path: str, response: TestResponse) -> None:
    if app.config["APP_ENV"] == "production" and response.request.scheme != "https":
        return
    problems = violations(spec_of(app), method, path, response)
    if problems:
        raise ContractViolationError(
            f"{method} {path} → {response.status_code} breaks the OpenAPI contract: "
            + "; ".join(problems)
        )
