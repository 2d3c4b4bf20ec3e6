"""Each language all the way through: a walk over every page finds no word of the other.

A coordinator signs in on the demo world (seeded and planned as ``make run``
does), switches the language menu and walks the week board, a job's drawer,
the order page, the support desk with a site's card, the calendar and the
import page with a file that has errors. Every visible text is read (the body's
text, titles, placeholders, labels for screen readers, menu options, the words
the scripts show later). What users typed is taken out first (every text value
of the database, except skill names, which are labels the UI must show in the
user's language); what is left must be Japanese in Japanese and English in
English. Codes a user types (contract ids, job references), units and product
names are allowed by a short list below; coded values (skill and region
codes, ``new_line``...) must show as their label in both languages.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import models

from demo.build import default_week_start
from dispatch.models import Plan, PlanStatus, Skill
from sites.models import Site
from tests.browser.conftest import screenshot

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "walk-pass-2026"
FILES = Path(__file__).resolve().parents[1] / "imports" / "files"

JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uff01-\uff60]")
#: A word, with its hyphens and underscores ("crew-day", "fibre_splicing"), not part of
#: a reference, an e-mail, a path or a number ("C-2026-0001", "3F").
ENGLISH_WORD = re.compile(r"(?<![\w.@/-])[A-Za-z][A-Za-z']*(?:[-_][A-Za-z]+)*(?![\w@/-])")
#: Words that stay as they are in Japanese: units, file formats, product names,
#: the language menu's own name for English.
ALLOWED_IN_JAPANESE = {
    "km", "MB", "CSV", "UTF", "Excel", "Shift_JIS", "JIS", "Shift", "API", "ID", "iCal",
    "OpenStreetMap", "Leaflet", "English", "ONU", "EPS", "MC", "IP", "PDF", "JSON", "GeoJSON",
    "xlsx", "csv", "OK", "RC", "SRC", "YYYY-MM-DD", "dBm",
}  # fmt: skip
#: The language menu names Japanese in Japanese, in every language.
ALLOWED_JAPANESE_IN_ENGLISH = {"日本語"}

COLLECT = """() => {
  const parts = [document.title, document.body.innerText];
  for (const el of document.querySelectorAll("[title],[placeholder],[aria-label],[alt]")) {
    if (el.closest("[hidden]") || el.closest("dialog:not([open])")) continue;
    for (const attr of ["title", "placeholder", "aria-label", "alt"]) {
      if (el.getAttribute(attr)) parts.push(el.getAttribute(attr));
    }
  }
  for (const option of document.querySelectorAll("option")) parts.push(option.textContent);
  // Words the scripts show later (status lines, confirmations) wait in data-* attributes.
  for (const holder of document.querySelectorAll("#board-text")) {
    parts.push(...Object.values(holder.dataset));
  }
  for (const el of document.querySelectorAll("*")) {
    for (const [key, value] of Object.entries(el.dataset)) {
      if (/^text[A-Z]/.test(key)) parts.push(value);
    }
  }
  return parts.join("\\n");
}"""


def _codes() -> set[str]:
    """Coded values a page must show as labels: skill and region codes, compound choices."""
    from sites.models import Region

    codes = set(Skill.objects.values_list("code", flat=True))
    codes |= set(Region.objects.values_list("code", flat=True))
    for model in apps.get_models():
        for f in model._meta.concrete_fields:
            for value, _label in f.flatchoices or ():
                if isinstance(value, str) and ("_" in value or "-" in value):
                    codes.add(value)
    return codes


def _data_strings() -> list[str]:
    """Every text users typed into the database, longest first, so a longer one goes first."""
    values: set[str] = set()
    for model in apps.get_models():
        if model._meta.app_label not in {"sites", "dispatch", "support", "accounts", "audit"}:
            continue
        if model is Skill:
            continue
        fields = [
            f.name
            for f in model._meta.concrete_fields
            if isinstance(f, models.CharField | models.TextField) and not f.choices
        ]
        if not fields:
            continue
        for row in model._default_manager.values_list(*fields):
            for value in row:
                for part in str(value).splitlines():
                    # Numbers and one-letter values would eat digits out of the page's own text.
                    if len(part.strip()) > 1 and not part.strip().isdigit():
                        values.add(part.strip())
    return sorted(values, key=len, reverse=True)


def _without_data(text: str, data: list[str]) -> str:
    for value in data:
        if value in text:
            text = text.replace(value, " ")
    return text


PLACEHOLDER = re.compile(r"%\(\w+\)[sd]")


def _foreign(text: str, language: str, data: list[str], codes: set[str]) -> list[str]:
    """Lines that hold a word of the other language once data is taken out, with the word."""
    found = []
    for line in PLACEHOLDER.sub(" ", _without_data(text, data)).splitlines():
        if language == "ja":
            # A single capital is a symbol (構造 S, 件数の下限 K), not a word.
            words = [
                w
                for w in ENGLISH_WORD.findall(line)
                if w not in ALLOWED_IN_JAPANESE and not (len(w) == 1 and w.isupper())
            ]
        else:
            stripped = line
            for allowed in ALLOWED_JAPANESE_IN_ENGLISH:
                stripped = stripped.replace(allowed, "")
            words = JAPANESE.findall(stripped)
            words += [w for w in ENGLISH_WORD.findall(line) if w in codes]
        # A note cut short ("…") is still data: its Japanese is a prefix of a value.
        if words and language == "en" and "…" in line:
            head = line.split("…")[0].strip().split()[-1] if line.split("…")[0].strip() else ""
            if head and any(head in value for value in data):
                words = JAPANESE.findall(line.replace(head, ""))
        if words:
            found.append(f"{' '.join(dict.fromkeys(words))}  <<  {line.strip()[:160]}")
    return found


@pytest.fixture
def demo(live_server: Any) -> Iterator[Plan]:
    """The demo world of ``make run``: seeded and its week planned and published."""
    call_command(
        "seed_demo",
        "--week-start",
        default_week_start().isoformat(),
        "--password",
        PASSWORD,
        "--plan",
        "2",
        stdout=StringIO(),
    )
    yield Plan.objects.get(status=PlanStatus.PUBLISHED)
    from support.services import calls_purge

    calls_purge(reason="browser test teardown")


def _sign_in(page: Any, base: str, language: str) -> None:
    page.goto(f"{base}/login/")
    page.locator("#language").select_option(language)
    page.wait_for_function(f"() => document.documentElement.lang === '{language}'")
    page.locator("input[name=username]").fill("coordinator")
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("form [type=submit]").last.click()
    page.wait_for_url(re.compile(r"^(?!.*/login/).*$"))


def _walk(page: Any, base: str, plan: Plan, language: str) -> dict[str, str]:
    """Visit each page as a coordinator would and return its text, by page."""
    seen: dict[str, str] = {}
    _sign_in(page, base, language)

    page.goto(f"{base}/plans/{plan.pk}/")
    page.locator("#board li.visit").first.wait_for()
    seen["week board"] = page.evaluate(COLLECT)
    if language == "ja":  # the docs show the Japanese pages
        screenshot(page, f"board_{language}")
    seen["week list"] = (page.goto(f"{base}/plans/"), page.evaluate(COLLECT))[1]

    page.goto(f"{base}/plans/{plan.pk}/")
    page.locator("#board [data-drawer]").first.click()
    page.locator("#drawer[open] #drawer-title").wait_for()
    seen["job drawer"] = page.evaluate("() => document.getElementById('drawer').innerText")

    page.goto(f"{base}/orders/")
    seen["order page"] = page.evaluate(COLLECT)
    if language == "ja":  # the docs show the Japanese pages
        screenshot(page, f"orders_{language}")

    site = Site.objects.filter(contracts__isnull=False, construction_records__isnull=False).first()
    assert site is not None
    page.goto(f"{base}/support/")
    page.locator("#desk-q").fill(site.name or site.address)
    page.locator("#desk-results [role=option]").first.wait_for()
    seen["support search"] = page.evaluate(COLLECT)
    page.keyboard.press("Enter")
    page.locator("#card-title").wait_for()
    seen["support card"] = page.evaluate(COLLECT)
    if language == "ja":  # the docs show the Japanese pages
        screenshot(page, f"support_card_{language}")

    page.goto(f"{base}/calendar/")
    seen["calendar"] = page.evaluate(COLLECT)

    page.goto(f"{base}/support/inbox/")
    seen["hand-off inbox"] = page.evaluate(COLLECT)
    page.goto(f"{base}/support/recurring/")
    seen["recurring issues"] = page.evaluate(COLLECT)
    page.goto(f"{base}/facts/")
    seen["facts from the field"] = page.evaluate(COLLECT)

    page.goto(f"{base}/imports/")
    page.locator("input[type=file]").set_input_files(str(FILES / "orders_with_errors.csv"))
    page.locator("button[value=preview]").click()
    page.locator("#import-summary, #import-report [role=alert]").first.wait_for()
    seen["import"] = page.evaluate(COLLECT)
    return seen


@pytest.mark.parametrize("language", ["ja", "en"])
def test_every_page_speaks_one_language(
    chromium: Any, live_server: Any, demo: Plan, language: str
) -> None:
    # The browser of a Japanese coordinator is Japanese too (date inputs, number formats).
    context = chromium.new_context(
        viewport={"width": 1600, "height": 1000},
        timezone_id="Asia/Tokyo",
        locale={"ja": "ja-JP", "en": "en-US"}[language],
    )
    context.set_default_timeout(15_000)
    try:
        seen = _walk(context.new_page(), live_server.url, demo, language)
    finally:
        context.close()
    if os.environ.get("DISPATCH_WALK_DUMP"):
        Path(os.environ["DISPATCH_WALK_DUMP"]).with_suffix(f".{language}.txt").write_text(
            "\n\n".join(f"== {name}\n{text}" for name, text in seen.items()), encoding="utf-8"
        )
    # The file the coordinator uploaded is named as they named it.
    data = [*_data_strings(), "orders_with_errors.csv"]
    codes = _codes()
    foreign = {name: _foreign(text, language, data, codes) for name, text in seen.items()}
    foreign = {name: lines for name, lines in foreign.items() if lines}
    report = "\n".join(f"[{name}] {line}" for name, lines in foreign.items() for line in lines[:40])
    assert not foreign, f"words of the other language on the {language} pages:\n{report}"
