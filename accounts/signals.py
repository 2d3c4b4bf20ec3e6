"""Every write to a token or a user makes token authentication look tokens up afresh.

:func:`accounts.tokens.token_authenticate` keeps recently checked tokens in
memory under the ``credentials`` change counter; these receivers bump it
(after commit) whenever a token or a user is saved or deleted, so a revoked
token, a deactivated user or a changed role or company counts on the very
next request. ``QuerySet.update`` sends no signal: the only one on these
models writes ``last_used_at``, which decides nothing.
"""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from .models import ApiToken, User
from .tokens import credentials_changed

#: Saving only these changes nothing a token check reads (Django writes it at every login).
_UNREAD_USER_FIELDS = frozenset({"last_login"})


@receiver(post_save, sender=ApiToken, dispatch_uid="accounts_token_saved")
@receiver(post_delete, sender=ApiToken, dispatch_uid="accounts_token_deleted")
@receiver(post_delete, sender=User, dispatch_uid="accounts_user_deleted")
def _credentials_written(sender: Any, **_: Any) -> None:
    credentials_changed()


@receiver(post_save, sender=User, dispatch_uid="accounts_user_saved")
def _user_saved(sender: type[User], update_fields: Any = None, **_: Any) -> None:
    if update_fields is not None and set(update_fields) <= _UNREAD_USER_FIELDS:
        return
    credentials_changed()
