"""Skills are shown by their label in the coordinator's language, never by their code.

A skill has a code the planner and the imports match on, a Japanese name
and an English one; the week board (crew rows, queue, visits, the skill
filter) and the job drawer show the Japanese name to a Japanese coordinator
and the English name to an English one, the Japanese name when a skill has
no English name yet.
"""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.utils import translation

from accounts.models import Role
from dispatch.models import Skill
from dispatch.runs import plan_request_optimization, run_optimization
from dispatch.skills import skill_labels
from tests.dispatch.conftest import World
from tests.factories import make_skill, make_user

pytestmark = pytest.mark.django_db

SPLICING_JA = "光ファイバー融着接続"
SPLICING_EN = "Fibre splicing"


@pytest.fixture
def named(world: World) -> World:
    Skill.objects.filter(code="fibre_splicing").update(name=SPLICING_JA, name_en=SPLICING_EN)
    return world


def page_in(language: str, url: str) -> str:
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(make_user(Role.COORDINATOR))
    return client.get(url).content.decode()


def crew_rows(page: str) -> list[str]:
    return re.findall(r'class="crew-name">[^<]*</span>\s*<small>\d+[^<]*· ([^<]*)</small>', page)


def skill_options(page: str) -> dict[str, str]:
    select = page[page.index('<select name="skill">') :]
    select = select[: select.index("</select>")]
    return dict(re.findall(r'<option value="([^"]+)"[^>]*>([^<]*)</option>', select))


@pytest.mark.parametrize(("language", "label"), [("ja", SPLICING_JA), ("en", SPLICING_EN)])
def test_the_board_names_crew_skills_and_the_skill_filter_in_the_coordinators_language(
    named: World, language: str, label: str
) -> None:
    page = page_in(language, f"/plans/{named.plan().pk}/")

    assert crew_rows(page) == [label, label]  # East and West
    assert skill_options(page)["fibre_splicing"] == label
    queue = page[page.index('id="queue"') :]
    assert f"· {label}</span>" in queue
    assert "fibre_splicing</" not in page and "· fibre_splicing" not in page


@pytest.mark.parametrize(("language", "label"), [("ja", SPLICING_JA), ("en", SPLICING_EN)])
def test_a_planned_visit_and_the_drawer_name_the_skills_too(
    named: World, language: str, label: str
) -> None:
    plan = named.plan()
    run_optimization(run_id=plan_request_optimization(plan=plan, enqueue=False).pk)

    board = page_in(language, f"/plans/{plan.pk}/")
    assert re.search(rf'data-ref="{named.jobs[0].reference}" title="{label}"', board)
    drawer = page_in(language, f"/jobs/{named.jobs[0].pk}/drawer/?plan={plan.pk}")
    assert f"<dd>{label}</dd>" in drawer


def test_a_skill_without_an_english_name_shows_its_japanese_name_in_english(
    named: World,
) -> None:
    Skill.objects.filter(code="fibre_splicing").update(name_en="")

    page = page_in("en", f"/plans/{named.plan().pk}/")

    assert crew_rows(page) == [SPLICING_JA, SPLICING_JA]
    assert skill_options(page)["fibre_splicing"] == SPLICING_JA


def test_several_skills_read_as_a_list_in_each_language(named: World) -> None:
    aerial = make_skill("aerial_cabling")
    Skill.objects.filter(pk=aerial.pk).update(name="架空配線", name_en="Aerial cabling")
    named.east_crew.skills.add(aerial)
    url = f"/plans/{named.plan().pk}/"

    assert "架空配線、" + SPLICING_JA in crew_rows(page_in("ja", url))
    assert "Aerial cabling, " + SPLICING_EN in crew_rows(page_in("en", url))
    named.jobs[0].required_skills.add(aerial)
    drawer = f"/jobs/{named.jobs[0].pk}/drawer/"
    assert f"<dd>架空配線、{SPLICING_JA}</dd>" in page_in("ja", drawer)
    assert f"<dd>Aerial cabling, {SPLICING_EN}</dd>" in page_in("en", drawer)


def test_skill_labels_keeps_the_order_and_shows_unknown_codes_as_they_are(named: World) -> None:
    codes = ["no_such_skill", "fibre_splicing"]
    with translation.override("ja"):
        assert skill_labels(codes) == ["no_such_skill", SPLICING_JA]
        assert Skill.objects.get(code="fibre_splicing").label == SPLICING_JA
    with translation.override("en"):
        assert skill_labels(codes) == ["no_such_skill", SPLICING_EN]
        assert str(Skill.objects.get(code="fibre_splicing")) == SPLICING_EN
    assert skill_labels([]) == []
