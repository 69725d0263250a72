"""A small queryset-like object over the session store's listing, for Django's admin.

Django's ChangeList (search box, sortable columns, pagination, actions) asks a queryset for
``filter`` (an empty Q, or ``pk__in`` for actions), ``order_by`` (with the ``-pk``
tie-breaker), ``count``, slicing, ``_clone``, ``distinct`` and ``query.select_related`` /
``query.order_by``. This answers exactly those over rows read from the store once per
admin request; anything else raises, so a new Django need shows up as an error, not as
silently wrong rows.
"""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

from django.db.models import Q

from mcp.ops.models import LiveSession

MAX_ROWS = 10_000  # sessions listed at most (most recently active first)


class SessionQuerySet:
    model = LiveSession

    def __init__(self, rows: list[LiveSession]) -> None:
        self._rows = rows
        self.query = SimpleNamespace(select_related=False, order_by=[])
        self.ordered = True

    # --- what ChangeList, Paginator and the actions call ---------------------------------------

    def _clone(self) -> SessionQuerySet:
        return SessionQuerySet(list(self._rows))

    def all(self) -> SessionQuerySet:
        return self._clone()

    def distinct(self, *fields: str) -> SessionQuerySet:
        return self._clone()

    def select_related(self, *fields: str) -> SessionQuerySet:
        return self._clone()

    def none(self) -> SessionQuerySet:
        return SessionQuerySet([])

    def filter(self, *conditions: Q, **lookups: Any) -> SessionQuerySet:
        rows = list(self._rows)
        for condition in conditions:
            if not isinstance(condition, Q) or condition.children:
                raise NotImplementedError(f"live sessions cannot be filtered by {condition!r}")
        for lookup, value in lookups.items():
            if lookup in ("pk__in", "id__in"):
                wanted = {str(item) for item in value}
                rows = [row for row in rows if row.id in wanted]
            elif lookup in ("pk", "id"):
                rows = [row for row in rows if row.id == str(value)]
            else:
                raise NotImplementedError(f"live sessions cannot be filtered by {lookup}")
        return SessionQuerySet(rows)

    def order_by(self, *fields: str) -> SessionQuerySet:
        rows = list(self._rows)
        # Stable sorts, last key first, so the first field decides.
        for spec in reversed([f for f in fields if isinstance(f, str)]):
            name = spec.lstrip("-")
            attribute = "id" if name == "pk" else name
            if not hasattr(LiveSession, attribute) or attribute.startswith("_"):
                continue
            rows.sort(key=lambda row: _sort_key(getattr(row, attribute)), reverse=spec.startswith("-"))
        return SessionQuerySet(rows)

    def count(self) -> int:
        return len(self._rows)

    def exists(self) -> bool:
        return bool(self._rows)

    def get(self, **lookups: Any) -> LiveSession:
        found = self.filter(**lookups)._rows
        if len(found) != 1:
            raise LiveSession.DoesNotExist(f"{len(found)} live sessions match")
        return found[0]

    def __len__(self) -> int:
        return len(self._rows)

    def __iter__(self) -> Iterator[LiveSession]:
        return iter(self._rows)

    def __bool__(self) -> bool:
        return bool(self._rows)

    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice):
            return SessionQuerySet(self._rows[index])
        return self._rows[index]


def _sort_key(value: Any) -> tuple[int, Any]:
    # None sorts first (ascending), whatever the type of the others.
    return (0, "") if value is None else (1, value)
