"""Where mail about a developer's things goes once that developer is removed."""

import uuid

from app.developers.models import Developer
from app.extensions import db

# Removal chains are short (A removed B who had removed C); the bound only guards cycles.
MAX_HOPS = 20


def alert_address(developer_id: uuid.UUID | None) -> str | None:
    """The developer's e-mail, or, once removed, that of whoever removed them (the first
    active one along the chain); None when the chain ends without one."""
    for _ in range(MAX_HOPS):
        developer = db.session.get(Developer, developer_id) if developer_id else None
        if developer is None:
            return None
        if developer.is_active:
            return developer.email
        developer_id = developer.removed_by_id
    return None
