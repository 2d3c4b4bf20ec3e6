"""What an import did, or would do, row by row, in words a coordinator can act on.

The same report comes back from a dry run and from an apply, so the preview a
coordinator reads is exactly what the apply will do (or why it refused).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from .cells import column_title

Action = Literal["create", "update", "unchanged", "invalid"]
ACTIONS: tuple[Action, ...] = ("create", "update", "unchanged", "invalid")


@dataclass(frozen=True)
class RowError:
    """One problem: where it is (row and column, as the spreadsheet shows them) and what it is."""

    row: int | None
    column: str | None
    message: str

    @property
    def column_title(self) -> str:
        """The column as the reader's language names it (``納期`` for ``due date``)."""
        return column_title(self.column)

    @property
    def text(self) -> str:
        """The problem as one line, e.g. ``row 7, due date: '2026/13/01' is not a date``."""
        if self.row and self.column:
            where = _("row %(row)s, %(column)s") % {"row": self.row, "column": self.column_title}
        elif self.row:
            where = _("row %(row)s") % {"row": self.row}
        else:
            where = self.column_title
        if not where:
            return self.message
        return _("%(where)s: %(message)s") % {"where": where, "message": self.message}


@dataclass
class RowResult:
    """One data row: its natural key, what happens to it, and why not when it is invalid."""

    row: int
    key: str = ""
    action: Action = "unchanged"
    changes: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)

    def error(self, column: str | None, message: str) -> None:
        self.errors.append(RowError(row=self.row, column=column, message=message))
        self.action = "invalid"

    @property
    def is_valid(self) -> bool:
        return not self.errors


class ImportFileError(Exception):
    """The file as a whole cannot be imported (unreadable, too big, missing columns...)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class ImportReport:
    """The outcome of :func:`~delivery.imports.import_preview` or ``import_apply``.

    ``geocoding_queued`` counts the new sites without coordinates: queued for
    geocoding after an apply, or that would be queued on a dry run.
    """

    kind: str
    filename: str
    dry_run: bool
    file_format: str = ""
    encoding: str = ""
    applied: bool = False
    rows: list[RowResult] = field(default_factory=list)
    file_errors: list[RowError] = field(default_factory=list)
    file_error_code: str = ""
    warnings: list[str] = field(default_factory=list)
    geocoding_queued: int = 0

    def fail(self, exc: ImportFileError) -> None:
        self.file_errors.append(RowError(row=None, column=None, message=exc.message))
        self.file_error_code = self.file_error_code or exc.code

    @property
    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = dict.fromkeys(ACTIONS, 0)
        for result in self.rows:
            counts[result.action] += 1
        return counts

    @property
    def errors(self) -> list[RowError]:
        """Every problem, file-level first, then row by row."""
        return [*self.file_errors, *(error for result in self.rows for error in result.errors)]

    @property
    def ok(self) -> bool:
        """True when every row is valid, so an apply would write all of them."""
        return not self.file_errors and all(result.is_valid for result in self.rows)

    @property
    def summary(self) -> str:
        """One sentence for the top of the page."""
        if self.file_errors:
            return _("The file cannot be imported: %(reason)s") % {
                "reason": self.file_errors[0].message
            }
        counts = self.counts
        rows = len(self.rows)
        values: dict[str, int | str] = {
            "count": rows,
            "invalid": counts["invalid"],
            "create": counts["create"],
            "update": counts["update"],
            "unchanged": counts["unchanged"],
        }
        if counts["invalid"]:
            if self.dry_run:
                message = ngettext(
                    "%(invalid)d of %(count)d row has errors, so nothing would be imported.",
                    "%(invalid)d of %(count)d rows have errors, so nothing would be imported.",
                    rows,
                )
            else:
                message = ngettext(
                    "%(invalid)d of %(count)d row has errors, so nothing was imported.",
                    "%(invalid)d of %(count)d rows have errors, so nothing was imported.",
                    rows,
                )
            return message % values
        if self.dry_run:
            values["numbers"] = (
                _("%(create)d to create, %(update)d to update, %(unchanged)d unchanged") % values
            )
            message = ngettext(
                "Ready to import %(count)d row: %(numbers)s.",
                "Ready to import %(count)d rows: %(numbers)s.",
                rows,
            )
        else:
            values["numbers"] = (
                _("%(create)d created, %(update)d updated, %(unchanged)d unchanged") % values
            )
            message = ngettext(
                "Imported %(count)d row: %(numbers)s.",
                "Imported %(count)d rows: %(numbers)s.",
                rows,
            )
        return message % values
