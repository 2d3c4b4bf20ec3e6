"""Forgotten passwords are reset by email (issue 18, item 8).

The login page links to a form that takes an email address. A known address gets a
link that sets a new password once; an unknown one sees the same page and nothing is
sent, so the form tells no one which addresses have accounts. Requests are limited per
client address (the one the API's throttles use: a forged X-Forwarded-For changes
nothing). The pages run under the Content-Security-Policy and speak Japanese.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.core import mail
from django.core.cache import cache
from django.test import Client

from accounts.models import Role
from config.csp import HEADER
from tests.factories import make_user
from tests.web.test_csp import inline_code

pytestmark = pytest.mark.django_db

RESET = "/password-reset/"
SENT = "/password-reset/sent/"
LINK = re.compile(r"http://testserver(/password-reset/[^/\s]+/[^/\s]+/)")
NEW_PASSWORD = "ochre-lantern-47-harbour"


@pytest.fixture(autouse=True)
def _fresh_counters() -> Iterator[None]:
    """Rate-limit counters live in the cache; each test starts with none."""
    cache.clear()
    yield
    cache.clear()


def ann() -> Any:
    return make_user(Role.COORDINATOR, username="ann", email="ann@example.jp", password="old-pw")


def ask(client: Client, email: str, **extra: Any) -> Any:
    return client.post(RESET, {"email": email}, **extra)


def sign_in(password: str) -> int:
    response = Client().post("/login/", {"username": "ann", "password": password})
    return response.status_code


def test_the_login_page_links_to_the_reset_form() -> None:
    html = Client().get("/login/").content.decode()
    assert f'href="{RESET}"' in html
    assert "Forgot your password?" in html


def test_a_known_address_gets_a_link_that_sets_a_new_password() -> None:
    ann()
    client = Client()

    response = ask(client, "ANN@example.jp")  # addresses match whatever their case

    assert response.status_code == 302 and response["Location"] == SENT
    assert [message.to for message in mail.outbox] == [["ann@example.jp"]]
    found = LINK.search(mail.outbox[0].body)
    assert found, mail.outbox[0].body
    assert "ann" in mail.outbox[0].body

    # The link moves the token out of the URL into the session, then shows the form.
    form_page = client.get(found.group(1), follow=True)
    assert form_page.status_code == 200
    assert form_page.context["validlink"] is True
    assert inline_code(form_page.content.decode()) == []  # the set-password form, too
    assert "new_password1" in form_page.content.decode()
    done = client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert done.status_code == 302 and done["Location"] == "/password-reset/done/"

    assert sign_in(NEW_PASSWORD) == 302  # to the home page
    assert sign_in("old-pw") == 200  # the form again, with an error


def test_the_link_works_once() -> None:
    ann()
    client = Client()
    ask(client, "ann@example.jp")
    link = LINK.search(mail.outbox[0].body).group(1)  # type: ignore[union-attr]
    page = client.get(link, follow=True)
    client.post(
        page.redirect_chain[-1][0],
        {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )

    again = Client().get(link, follow=True)

    assert again.context["validlink"] is False
    assert "This link is invalid or has already been used." in again.content.decode()


def test_an_unknown_address_sees_the_same_answer_and_nothing_is_sent() -> None:
    ann()

    known = ask(Client(), "ann@example.jp")
    mail.outbox.clear()
    unknown = ask(Client(), "nobody@example.jp")

    assert (unknown.status_code, unknown["Location"]) == (known.status_code, known["Location"])
    assert mail.outbox == []
    sent_page = Client().get(SENT).content.decode()
    assert "If an account uses that address" in sent_page


def test_mismatched_new_passwords_change_nothing() -> None:
    ann()
    client = Client()
    ask(client, "ann@example.jp")
    page = client.get(LINK.search(mail.outbox[0].body).group(1), follow=True)  # type: ignore[union-attr]

    response = client.post(
        page.redirect_chain[-1][0],
        {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD + "x"},
    )

    assert response.status_code == 200
    assert 'class="error"' in response.content.decode()
    assert sign_in("old-pw") == 302


def test_requests_from_one_address_are_refused_past_the_rate(settings: Any) -> None:
    settings.PASSWORD_RESET_RATE = "3/hour"
    ann()
    client = Client(REMOTE_ADDR="203.0.113.9")

    statuses = [
        ask(client, "ann@example.jp", HTTP_X_FORWARDED_FOR=f"198.51.100.{n}").status_code
        for n in range(5)
    ]

    # A forged X-Forwarded-For does not make a new client (TRUSTED_PROXIES=0).
    assert statuses == [302, 302, 302, 429, 429]
    assert len(mail.outbox) == 3  # a refused request sends nothing
    refused = ask(client, "ann@example.jp")
    assert "Too many password reset requests" in refused.content.decode()
    # Another address still may.
    assert ask(Client(REMOTE_ADDR="198.51.100.7"), "ann@example.jp").status_code == 302


def test_showing_the_form_is_not_counted(settings: Any) -> None:
    settings.PASSWORD_RESET_RATE = "1/hour"
    client = Client()
    for _ in range(3):
        assert client.get(RESET).status_code == 200
    assert ask(client, "nobody@example.jp").status_code == 302


@pytest.mark.parametrize(
    "path", [RESET, SENT, "/password-reset/done/", "/password-reset/MQ/bad-token/"]
)
def test_the_pages_run_under_the_content_security_policy(path: str) -> None:
    response = Client().get(path, follow=True)

    assert response.status_code == 200
    assert "script-src 'self'" in response[HEADER]
    assert inline_code(response.content.decode()) == []


def test_the_pages_and_the_mail_speak_japanese() -> None:
    ann()
    client = Client(HTTP_ACCEPT_LANGUAGE="ja")

    assert "パスワードを忘れた場合" in client.get("/login/").content.decode()
    assert "パスワードの再設定" in client.get(RESET).content.decode()
    ask(client, "ann@example.jp")
    assert "パスワードの再設定" in mail.outbox[0].subject
    assert "新しいパスワード" in mail.outbox[0].body
