"""Password reset by email: Django's own views, our templates, and a rate limit.

The request page answers the same whether or not an account uses the address
(Django's default), so it tells no one which addresses have accounts. Each request
may send a mail, so requests are counted per client address and refused with 429
past ``PASSWORD_RESET_RATE``. The address is the one the API's throttles use
(DRF's ``get_ident``): the socket's, or with ``TRUSTED_PROXIES=n`` the hop our own
proxy appended to X-Forwarded-For, never what the client wrote there itself.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse
from django.urls import reverse_lazy
from rest_framework.throttling import SimpleRateThrottle


class PasswordResetThrottle(SimpleRateThrottle):
    """At most ``PASSWORD_RESET_RATE`` reset requests per client address (cache counters)."""

    scope = "password_reset"

    def get_rate(self) -> str:
        return str(settings.PASSWORD_RESET_RATE)

    def get_cache_key(self, request: Any, view: Any) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class PasswordResetView(auth_views.PasswordResetView):
    template_name = "registration/password_reset_form.html"
    email_template_name = "registration/password_reset_email.txt"
    subject_template_name = "registration/password_reset_subject.txt"
    success_url = reverse_lazy("web:password_reset_done")

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        # Counted before the form is read: a refused request sends nothing.
        if not PasswordResetThrottle().allow_request(request, self):
            context = self.get_context_data(form=self.get_form_class()(), throttled=True)
            return self.render_to_response(context, status=429)
        return super().post(request, *args, **kwargs)


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "registration/password_reset_done.html"


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "registration/password_reset_confirm.html"
    success_url = reverse_lazy("web:password_reset_complete")


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "registration/password_reset_complete.html"
