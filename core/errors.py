"""The one error type of the domain: what a service raises when it refuses a request.

Each refusal is a :class:`DomainError` subclass next to the rule it guards
(``PlanConflict`` in ``dispatch.plans``, ``HandoverBlocked`` in
``delivery.handover``...) and states its ``code`` and its HTTP ``status``. An
interface renders any of them the same way without knowing the subclass: the
API (``api/errors.py``) answers ``status``, ``code``, ``message``, ``fields``
(from ``field``) and each of ``details`` as an extra member.

No Django and no models here, so every app can import it.
"""

from __future__ import annotations

from typing import Any, ClassVar

#: The request conflicts with the current state of things; the default.
CONFLICT = 409
#: The caller's input is wrong however often it is sent.
INVALID_INPUT = 400
#: Something the service needs is down for a moment; retrying is the fix.
UNAVAILABLE = 503


class DomainError(Exception):
    """A request the domain refuses, with everything an interface needs to say why.

    ``code`` is what clients switch on, ``message`` what people read, ``field``
    the input field it is about (if any) and ``details`` the machine-readable
    rest (the rule broken, the blockers, the conflicting plans...).
    """

    code: ClassVar[str] = "domain_error"
    status: ClassVar[int] = CONFLICT

    def __init__(self, message: str, *, field: str | None = None, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.details: dict[str, Any] = details
