"""Template filters for a building's access hours (``SiteSurvey.access_hours``).

The job drawer and the support card show the same one line the partner API
and the iCal feed carry (:meth:`sites.access.AccessHours.describe`), in the
language the page is rendered in; the JSON itself means nothing to a person.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.translation import get_language

from sites.access import AccessHours, AccessHoursError
from sites.access_errors import access_error_text

register = template.Library()


@register.filter
def access_description(value: Any) -> str:
    """``[{"days": [0..4], …}]`` → 「平日 9:00〜17:00（土日祝休）」 / "Mon–Fri 09:00–17:00; …".

    Empty for no restriction recorded: the row then shows only the notes.
    Stored hours that do not read (written around the API) say so rather
    than break the page a support operator has open during a call.
    """
    try:
        hours = AccessHours.from_json(value if value is not None else [])
    except AccessHoursError as error:
        return f"? ({access_error_text(error)})"
    if hours.is_unrestricted:
        return ""
    return hours.describe(get_language() or "en")
