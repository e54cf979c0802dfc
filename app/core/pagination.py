"""Page-number pagination for listings and opaque keyset cursors for feeds."""

import base64
import json
import math
import uuid
from datetime import UTC, datetime
from typing import Any

import marshmallow as ma
from sqlalchemy import Select, func, select, tuple_
from sqlalchemy.orm import InstrumentedAttribute

from app.core.errors import ApiError
from app.extensions import db

MAX_LIMIT = 100
# Far deeper than any real listing, and small enough that OFFSET fits PostgreSQL's bigint.
MAX_PAGE = 1_000_000


class PageQuerySchema(ma.Schema):
    page = ma.fields.Integer(load_default=1, validate=ma.validate.Range(min=1, max=MAX_PAGE))
    limit = ma.fields.Integer(load_default=20, validate=ma.validate.Range(min=1, max=MAX_LIMIT))


class PageSchema(ma.Schema):
    """A page of a listing; subclasses add `items`."""

    total = ma.fields.Integer(required=True)
    page = ma.fields.Integer(required=True)
    limit = ma.fields.Integer(required=True)
    pages = ma.fields.Integer(required=True)
    has_next = ma.fields.Boolean(required=True)
    has_prev = ma.fields.Boolean(required=True)


class CursorQuerySchema(ma.Schema):
    cursor = ma.fields.String(validate=ma.validate.Length(max=200))
    limit = ma.fields.Integer(load_default=50, validate=ma.validate.Range(min=1, max=MAX_LIMIT))


class CursorPaginationSchema(ma.Schema):
    next_cursor = ma.fields.String(allow_none=True, required=True)
    has_more = ma.fields.Boolean(required=True)


def CursorPage(item: type[ma.Schema], name: str) -> type[ma.Schema]:  # noqa: N802 - a class factory
    """The schema of `cursor_page`'s envelope: `{"data": [item…], "pagination"}`.

    `name` (e.g. `WorkoutPageSchema`) names the schema in the OpenAPI document."""
    return ma.Schema.from_dict(
        {
            "data": ma.fields.List(ma.fields.Nested(item), required=True),
            "pagination": ma.fields.Nested(CursorPaginationSchema, required=True),
        },
        name=name,
    )


def page_of(statement: Select[Any], page: int, limit: int) -> dict[str, Any]:
    """`{"items", "total", "page", "limit", "pages", "has_next", "has_prev"}`."""
    total = db.session.scalar(select(func.count()).select_from(statement.order_by(None).subquery()))
    items = db.session.scalars(statement.limit(limit).offset((page - 1) * limit)).all()
    pages = math.ceil(total / limit) if total else 0
    return {
        "items": items,
        "total": total,
        "page": page,
        "limit": limit,
        "pages": pages,
        "has_next": page < pages,
        "has_prev": page > 1,
    }


def encode_cursor(moment: datetime, row_id: uuid.UUID) -> str:
    raw = json.dumps([moment.isoformat(), str(row_id)]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        decoded = json.loads(raw)
        # A client can hand back any JSON: uuid.UUID(5) raises AttributeError, not
        # ValueError, and unpacking would take the keys of a two-key object.
        if not (isinstance(decoded, list) and all(isinstance(value, str) for value in decoded)):
            raise ValueError("cursors are a list of strings")
        moment, row_id = decoded
        moment = datetime.fromisoformat(moment)
        if moment.tzinfo is None:
            raise ValueError("cursors carry aware datetimes")
        return moment.astimezone(UTC), uuid.UUID(row_id)
    except (ValueError, TypeError, OverflowError) as error:
        raise ApiError(422, "Invalid cursor.") from error


def cursor_page(
    statement: Select[Any],
    time_column: InstrumentedAttribute[datetime],
    id_column: InstrumentedAttribute[uuid.UUID],
    cursor: str | None,
    limit: int,
    descending: bool = True,
) -> dict[str, Any]:
    """`{"data": rows after `cursor` in (time, id) order, "pagination": {"next_cursor",
    "has_more"}}`.

    The (time, id) pair is unique and indexed, so each page is one index range scan
    and a row never appears twice or goes missing between pages.
    """
    if cursor:
        # A row-value comparison, not an OR of two conditions: PostgreSQL uses it as an
        # index condition, so page N starts where page N-1 ended instead of re-reading it.
        position, after = tuple_(time_column, id_column), decode_cursor(cursor)
        statement = statement.where(position < after if descending else position > after)
    order = (time_column.desc(), id_column.desc()) if descending else (time_column, id_column)
    rows = db.session.scalars(statement.order_by(*order).limit(limit + 1)).all()
    has_more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = None
    if has_more:
        last = rows[-1]
        next_cursor = encode_cursor(getattr(last, time_column.key), last.id)
    return {"data": rows, "pagination": {"next_cursor": next_cursor, "has_more": has_more}}
