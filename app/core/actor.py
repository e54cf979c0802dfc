"""Who did something, as the audit trail records it and an alert names it."""

from dataclasses import dataclass

from app.core.auth import Principal


@dataclass(frozen=True)
class Actor:
    type: str
    """`developer`, `api_key`, `sdk`, `application`, `anonymous` or `system`."""
    id: str | None = None
    name: str | None = None
    """For people reading an alert, e.g. a developer's e-mail; the audit trail keeps ids."""

    @classmethod
    def of(cls, principal: Principal, name: str | None = None) -> "Actor":
        return cls(type=principal.kind.value, id=principal.subject_id, name=name)


ANONYMOUS = Actor("anonymous")
