"""The demo's skills have a Japanese and an English name, as the board shows them."""

from __future__ import annotations

import datetime as dt
import importlib
import random

import pytest
from django.apps import apps
from django.utils import translation

from demo.build import _Builder
from demo.data import SKILLS
from dispatch.models import Skill

skill_migration = importlib.import_module("dispatch.migrations.0012_skill_name_en")


def test_every_demo_skill_has_both_names_and_the_migration_knows_them() -> None:
    for code, name, name_en in SKILLS:
        assert name and name_en, code
        assert skill_migration.ENGLISH_NAMES[code] == name_en


@pytest.mark.django_db
def test_the_demo_writes_both_names_and_each_language_reads_its_own() -> None:
    skills = _Builder(random.Random(1), dt.date(2026, 11, 30)).skills()

    splicing = Skill.objects.get(pk=skills["fibre_splicing"].pk)
    assert (splicing.name, splicing.name_en) == ("光ファイバー融着接続", "Fibre splicing")
    with translation.override("ja"):
        assert splicing.label == "光ファイバー融着接続"
    with translation.override("en"):
        assert splicing.label == "Fibre splicing"


@pytest.mark.django_db
def test_the_migration_fills_english_names_it_knows_and_keeps_ones_typed_by_hand() -> None:
    Skill.objects.update_or_create(
        code="core_drilling", defaults={"name": "コア抜き", "name_en": ""}
    )
    Skill.objects.update_or_create(
        code="riser_cabling", defaults={"name": "縦系配線", "name_en": "Vertical cabling"}
    )
    Skill.objects.update_or_create(code="our_own", defaults={"name": "独自作業", "name_en": ""})

    skill_migration.fill_english_names(apps, None)

    names = dict(Skill.objects.values_list("code", "name_en"))
    assert names["core_drilling"] == "Core drilling and penetrations"
    assert names["riser_cabling"] == "Vertical cabling"
    assert names["our_own"] == ""
