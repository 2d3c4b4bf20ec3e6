"""A model instance as an import sees it: stored or new, which row set which field, what changed.

Both the dry run and the apply go through :meth:`Record.set`, so the changes a
preview lists are exactly the ones the apply writes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import Any, Generic, TypeVar

from django.db import models
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy

from .cells import column_title
from .report import RowResult

M = TypeVar("M", bound=models.Model)


#: The records an import writes, as its messages name them.
ENTITY_WORDS = {
    "contract": pgettext_lazy("import entity", "contract"),
    "job": pgettext_lazy("import entity", "job"),
    "site": pgettext_lazy("import entity", "site"),
    "customer": pgettext_lazy("import entity", "customer"),
    "company": pgettext_lazy("import entity", "company"),
    "crew": pgettext_lazy("import entity", "crew"),
}


def shown(value: object) -> str:
    """A value as the change list and the error messages quote it."""
    if value is None or value == "":
        return _("(empty)")
    if isinstance(value, dt.time):
        return value.strftime("%H:%M")
    if isinstance(value, dt.date | int | float):
        return str(value)
    return f"'{value}'"


class Record(Generic[M]):
    """Wraps one instance during an import.

    ``is_new`` stays true for a record the file creates, even after it is
    saved, so later rows of the same file describe it the same way on a dry
    run and on an apply.
    """

    def __init__(self, obj: M, *, entity: str, is_new: bool) -> None:
        self.obj = obj
        self.entity = entity
        self.is_new = is_new
        self.stored = not is_new
        self.claimed: dict[str, int] = {}
        self.dirty: set[str] = set()

    @property
    def entity_word(self) -> str:
        """What the record is, in the active language."""
        return str(ENTITY_WORDS.get(self.entity, self.entity))

    def set(
        self,
        field: str,
        value: object,
        *,
        column: str,
        result: RowResult,
        display: Callable[[Any], object] | None = None,
    ) -> bool:
        """Give ``field`` the row's ``value``; None (a blank cell) keeps what is there.

        Two rows of one file that disagree about the same record are an error
        rather than "last row wins": the file contradicts itself, and only its
        author knows which row is right.
        """
        if value is None:
            return False
        current = getattr(self.obj, field)

        def show(raw: object) -> str:
            return shown(display(raw) if display is not None else raw)

        first_row = self.claimed.get(field)
        if first_row is not None and first_row != result.row and current != value:
            result.error(
                column,
                _(
                    "%(value)s differs from row %(row)s, which gave %(other)s "
                    "for the same %(entity)s"
                )
                % {
                    "value": show(value),
                    "row": first_row,
                    "other": show(current),
                    "entity": self.entity_word,
                },
            )
            return False
        self.claimed.setdefault(field, result.row)
        if current == value:
            return False
        if not self.is_new:
            result.changes.append(
                _("%(entity)s %(column)s: %(before)s → %(after)s")
                % {
                    "entity": self.entity_word,
                    "column": column_title(column),
                    "before": show(current),
                    "after": show(value),
                }
            )
        setattr(self.obj, field, value)
        self.dirty.add(field)
        return True

    def save(self, *, touch: Iterable[str] = ()) -> bool:
        """Write a new record, or the changed fields (plus ``touch``) of a stored one."""
        if not self.stored:
            self.obj.save()
            self.stored = True
        elif self.dirty:
            self.obj.save(update_fields=[*sorted(self.dirty), *touch])
        else:
            return False
        self.dirty.clear()
        return True
