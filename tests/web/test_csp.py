"""The Content-Security-Policy, and the pages that keep working under it (issue 18, finding 2).

Every HTML page carries a policy that runs scripts only from this site, and no page
needs anything else: no inline ``<script>`` with code, no ``on*=`` attribute, no
``javascript:`` URL, no ``<style>`` element. Checked on the rendered pages (the board
with a run's comparison, its fragments, the drawer, the orders, the plans, the support
desk and card, the API docs, the admin, the login) and on every template file, so a
new inline handler fails here before a browser ever meets it.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.test import Client, override_settings

from accounts.models import Role
from config.csp import HEADER, ContentSecurityPolicyMiddleware, build_policy, tile_source
from dispatch.runs import plan_request_optimization, run_optimization
from sites.models import ConstructionRecord
from support.models import CallCategory
from support.services import call_log, calls_purge
from tests.dispatch.conftest import World
from tests.factories import make_contract, make_user

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_DIRS = [ROOT / "templates", ROOT / "web" / "templates", ROOT / "support" / "templates"]
DATA_SCRIPT_TYPES = {"application/json", "application/ld+json"}


class InlineCode(HTMLParser):
    """Collects what a strict policy would block: inline code, handlers, inline styles."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._script: str | None = None
        self._body: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = dict(attrs)
        for name, value in attrs:
            if name.startswith("on"):
                self.found.append(f"<{tag} {name}=…>")
            if name.startswith("hx-on"):
                self.found.append(f"<{tag} {name}=…> (htmx eval)")
            if name in {"href", "src", "action", "formaction"} and (value or "").strip().lower(
            ).startswith("javascript:"):  # fmt: skip
                self.found.append(f"<{tag} {name}=javascript:…>")
        if tag == "style":
            self.found.append("<style> element")
        if tag == "script":
            kind = (named.get("type") or "").lower()
            self._script = None if named.get("src") or kind in DATA_SCRIPT_TYPES else tag
            self._body = []

    def handle_data(self, data: str) -> None:
        if self._script:
            self._body.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "script" and self._script:
            code = "".join(self._body).strip()
            if code:
                self.found.append(f"inline <script>: {code[:60]!r}")
            self._script = None


def inline_code(html: str) -> list[str]:
    parser = InlineCode()
    parser.feed(html)
    parser.close()
    return parser.found


def client_as(role: str, **fields: object) -> Client:
    client = Client()
    client.force_login(make_user(role, **fields))
    return client


def test_the_policy_allows_scripts_from_this_site_only() -> None:
    policy = dict(part.strip().split(" ", 1) for part in build_policy().split(";"))
    assert policy["script-src"] == "'self'"
    assert policy["default-src"] == "'self'"
    assert policy["object-src"] == "'none'"
    assert policy["base-uri"] == "'self'"
    assert policy["frame-ancestors"] == "'none'"
    assert policy["form-action"] == "'self'"
    assert policy["style-src"] == "'self'"
    assert policy["img-src"] == "'self' data:"
    # Never inline or evaluated script, whatever else changes.
    assert "unsafe-inline" not in policy["script-src"] and "unsafe-eval" not in build_policy()


def test_map_tiles_are_allowed_from_the_configured_host_only() -> None:
    assert tile_source("") == ""
    assert tile_source("https://tile.openstreetmap.org/{z}/{x}/{y}.png") == (
        "https://tile.openstreetmap.org"
    )
    assert tile_source("https://{s}.tile.example.org/{z}/{x}/{y}.png") == (
        "https://*.tile.example.org"
    )
    assert tile_source("javascript:alert(1)") == ""
    assert tile_source("https://tiles.{s}.example.org/{z}.png") == "https:"
    policy = build_policy("https://{s}.tile.example.org/{z}/{x}/{y}.png")
    assert "img-src 'self' data: https://*.tile.example.org;" in policy
    with override_settings(MAP_TILE_URL="https://tile.openstreetmap.org/{z}/{x}/{y}.png"):
        middleware = ContentSecurityPolicyMiddleware(lambda request: None)  # type: ignore[arg-type,return-value]
    assert "img-src 'self' data: https://tile.openstreetmap.org;" in middleware.policy


@pytest.mark.parametrize("path", ["/login/", "/api/docs/", "/no-such-page/"])
def test_anonymous_pages_carry_the_policy(path: str) -> None:
    response = Client().get(path)
    assert response[HEADER] == build_policy()


def test_every_page_carries_the_policy_and_runs_no_inline_code(world: World) -> None:
    """Each page as its users see it, with data in every part that has a template."""
    plan = world.plan()
    run = run_optimization(run_id=plan_request_optimization(plan=plan, enqueue=False).pk)
    job = world.jobs[0]
    site = job.site
    contract = make_contract()
    contract.sites.add(site)
    job.contract = contract
    job.save(update_fields=["contract"])
    ConstructionRecord.objects.create(site=site, media_converter_location="1F MDF", notes="n")
    operator = make_user(Role.SUPPORT)
    call_log(site=site, operator=operator, category=CallCategory.SLOW, description="slow")
    coordinator = client_as(Role.COORDINATOR, is_staff=True, is_superuser=True)
    support = Client()
    support.force_login(operator)
    pages = {
        coordinator: [
            f"/plans/{plan.pk}/",
            f"/plans/{plan.pk}/fragment/?queue=1&cell={world.east_crew.pk}:{plan.start_date}",
            f"/plans/{plan.pk}/queue/",
            f"/plans/{plan.pk}/publish-summary/",
            f"/runs/{run.pk}/progress/",
            f"/jobs/{job.pk}/drawer/?plan={plan.pk}",
            "/plans/",
            "/orders/",
            "/support/",
            "/admin/",
        ],
        support: [
            "/support/",
            "/support/search/?q=" + contract.contract_id,
            f"/support/?site={site.pk}",
            f"/support/sites/{site.pk}/",
            "/orders/",
            "/api/docs/",
        ],
    }
    try:
        for client, paths in pages.items():
            for path in paths:
                response = client.get(path)
                assert response.status_code == 200, path
                assert response[HEADER] == build_policy(), path
                assert response["Content-Type"].startswith("text/html"), path
                html = response.content.decode()
                assert inline_code(html) == [], path
    finally:
        calls_purge(reason="test teardown")


def test_the_board_passes_its_words_as_data_and_configures_htmx_for_the_policy(
    world: World,
) -> None:
    plan = world.plan()
    html = client_as(Role.COORDINATOR).get(f"/plans/{plan.pk}/").content.decode()
    assert 'id="board-text"' in html and 'data-moved="Moved %(job)s to %(crew)s' in html
    config = re.search(r'<meta name="htmx-config" content=\'([^\']*)\'>', html)
    assert config is not None
    assert '"allowEval": false' in config.group(1)
    assert '"allowScriptTags": false' in config.group(1)
    assert '"includeIndicatorStyles": false' in config.group(1)


def test_the_api_docs_load_their_init_script_from_a_url() -> None:
    client = Client()
    html = client.get("/api/docs/").content.decode()
    assert inline_code(html) == []
    script = re.search(r'<script src="([^"]*script=[^"]*)"', html)
    assert script is not None
    response = client.get(script.group(1).replace("&amp;", "&"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/javascript")


def template_files() -> list[Path]:
    return sorted(path for folder in TEMPLATE_DIRS for path in folder.rglob("*.html"))


@pytest.mark.parametrize("path", template_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_template_has_inline_script_or_handlers(path: Path) -> None:
    source = path.read_text()
    # Template tags out of the way; what remains is the markup the browser parses.
    markup = re.sub(
        r"{% comment %}.*?{% endcomment %}|{%.*?%}|{{.*?}}|{#.*?#}", "", source, flags=re.S
    )
    assert inline_code(markup) == [], path


def test_the_front_end_builds_no_markup_from_data() -> None:
    """Leaflet renders string tooltips and popups as HTML: ours get a DOM node, never a string."""
    scripts = [
        ROOT / "static" / "js" / "board.js",
        ROOT / "support" / "static" / "support" / "desk.js",
    ]
    for script in scripts:
        source = script.read_text()
        for call in re.findall(r"\.bind(?:Tooltip|Popup)\(([^,)]*)", source):
            assert call.startswith("textNode("), (script.name, call)
        assert "insertAdjacentHTML" not in source and "document.write" not in source
        assert "eval(" not in source and "new Function" not in source
        # innerHTML only ever receives a fetched server fragment (escaped by Django).
        for line in re.findall(r"innerHTML\s*=\s*([^;]*);", source):
            assert line.strip() in {'""', "await response.text()", "html"}, (script.name, line)
