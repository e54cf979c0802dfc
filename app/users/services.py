import uuid
from typing import Any

from sqlalchemy import delete, or_, select
from sqlalchemy.exc import IntegrityError

from app.core.auth import Kind
from app.core.errors import ApiError
from app.core.pagination import page_of
from app.core.schemas import normalise_email
from app.data.models import TimeSeriesPoint, Workout
from app.extensions import db
from app.refresh_tokens import services as refresh_tokens
from app.users.models import User


def _conflict(fields: dict[str, Any], exclude: uuid.UUID | None = None) -> str | None:
    for name in ("email", "external_user_id"):
        value = fields.get(name)
        if value is None:
            continue
        statement = select(User.id).where(getattr(User, name) == value)
        if exclude is not None:
            statement = statement.where(User.id != exclude)
        if db.session.scalar(statement) is not None:
            return f"A user with this {name} already exists."
    return None


def _refuse_conflicts(fields: dict[str, Any], exclude: uuid.UUID | None = None) -> None:
    conflict = _conflict(fields, exclude)
    if conflict:
        raise ApiError(409, conflict)


def _commit(user: User) -> User:
    try:
        db.session.commit()
    except IntegrityError as error:
        # A concurrent write took the value between the check and the commit.
        db.session.rollback()
        raise ApiError(409, "A user with this email or external_user_id already exists.") from error
    return user


def create_user(fields: dict[str, Any]) -> User:
    _refuse_conflicts(fields)
    user = User(id=uuid.uuid4(), **fields)
    db.session.add(user)
    return _commit(user)


def get_user(user_id: uuid.UUID) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        raise ApiError(404, "User not found.")
    return user


def update_user(user_id: uuid.UUID, fields: dict[str, Any]) -> User:
    user = get_user(user_id)
    _refuse_conflicts(fields, exclude=user_id)
    for name, value in fields.items():
        setattr(user, name, value)
    return _commit(user)


def delete_user(user_id: uuid.UUID) -> None:
    """Delete the user, its data and every SDK session minted for it.

    PostgreSQL removes the data through ON DELETE CASCADE; SQLite (the embedded
    default) does not enforce foreign keys, so the data is deleted explicitly there."""
    user = get_user(user_id)
    if db.session.get_bind().dialect.name == "sqlite":
        for model in (Workout, TimeSeriesPoint):
            db.session.execute(delete(model).where(model.user_id == user.id))
    db.session.delete(user)
    db.session.commit()
    refresh_tokens.revoke_subject(Kind.SDK, str(user_id))


def list_users(query: dict[str, Any]) -> dict[str, Any]:
    statement = select(User).order_by(User.created_at.desc(), User.id.desc())
    if query.get("email"):
        statement = statement.where(User.email == normalise_email(query["email"]))
    if query.get("external_user_id"):
        statement = statement.where(User.external_user_id == query["external_user_id"])
    if query.get("search"):
        # autoescape: `%`, `_` and the escape character match themselves, not patterns.
        statement = statement.where(
            or_(
                *(
                    column.icontains(query["search"], autoescape=True)
                    for column in (
                        User.email,
                        User.first_name,
                        User.last_name,
                        User.external_user_id,
                    )
                )
            )
        )
    return page_of(statement, query["page"], query["limit"])
