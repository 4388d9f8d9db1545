"""Who is acting: the engine's own notion of a user, so it needs neither Flask nor the directory."""

from __future__ import annotations

from dataclasses import dataclass, field

SYSTEM_USER = "system"


@dataclass(frozen=True)
class Actor:
    """A user id, the roles they hold and the units (jurisdictions) they may act in.

    ``unit_ids`` should already include sub-units where the directory grants a subtree
    (a provincial user sees the cities and counties below).
    """

    user_id: str
    roles: frozenset[str] = field(default_factory=frozenset)
    unit_ids: frozenset[str] = field(default_factory=frozenset)
    is_admin: bool = False

    @classmethod
    def of(cls, user_id: str, roles: list[str] | tuple[str, ...] | set[str] = (),
           units: list[str] | tuple[str, ...] | set[str] = (), is_admin: bool = False) -> Actor:
        return cls(user_id, frozenset(roles), frozenset(units), is_admin)

    @property
    def primary_unit(self) -> str | None:
        return min(self.unit_ids) if self.unit_ids else None


SYSTEM = Actor(SYSTEM_USER, frozenset(), frozenset(), is_admin=True)
