"""Malformed access hours explained in the reader's language.

:mod:`sites.access` is plain Python and raises :class:`~sites.access.AccessHoursError`
with an English template and its params; this module lists those templates for
``makemessages`` and says the error in the active language. The path
(``[0].closes``) names JSON keys, which stay as they are.
"""

from __future__ import annotations

from django.utils.translation import gettext, gettext_noop

from .access import AccessHoursError

TEMPLATES = (
    gettext_noop("must be a list of day keys 0-7"),
    gettext_noop("%(value)s is not a day key (0=Mon ... 6=Sun, 7=holiday)"),
    gettext_noop("must name at least one day"),
    gettext_noop("must be a whole-minute time without timezone"),
    gettext_noop("must be a whole-minute time or END_OF_DAY (24:00)"),
    gettext_noop("must be after opens"),
    gettext_noop("must be a time HH:MM, got %(value)s"),
    gettext_noop("must be a time HH:MM between 00:00 and 23:59"),
    gettext_noop("must be an AccessRange, got %(value)s"),
    gettext_noop("must be a list of ranges, got %(type)s"),
    gettext_noop("must be an object with days, opens, closes, got %(type)s"),
    gettext_noop("unknown field"),
    gettext_noop("is required"),
    gettext_noop("must be a time HH:MM after opens"),
)


def access_error_text(error: AccessHoursError) -> str:
    """``[0].closes: …`` with the sentence in the active language."""
    text = gettext(error.template) % error.params
    return f"{error.path}: {text}" if error.path else text
