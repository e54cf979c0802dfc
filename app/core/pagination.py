"""Page-number pagination for listings and opaque keyset cursors for feeds."""

import base64
import json
import math
import uuid
from datetime import UTC, datetime

import marshmallow as ma
from sqlalchemy import Select, func, select, tuple_

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


def page_of(statement: Select, page: int, limit: int) -> dict:
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
        moment, row_id = json.loads(raw)
        moment = datetime.fromisoformat(moment)
        if moment.tzinfo is None:
            raise ValueError("cursors carry aware datetimes")
        return moment.astimezone(UTC), uuid.UUID(row_id)
    except (ValueError, TypeError, OverflowError) as error:
        raise ApiError(422, "Invalid cursor.") from error


def keyset_page(statement: Select, time_column, id_column, cursor, limit, descending=True):
    """Rows after `cursor` in (time, id) order, and the cursor of the next page.

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
    return rows, {"next_cursor": next_cursor, "has_more": has_more}
