"""Skill labels in the active language.

A skill has a stable ``code`` (what the planner, the imports and the API
match on), a Japanese ``name`` and an optional English ``name_en``. Whatever
shows a skill to a person shows its label: the Japanese name in the Japanese
UI, the English name in the English one (the Japanese name when no English
name was entered). Unknown codes are shown as they are.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.utils.translation import get_language, pgettext


def _english_active() -> bool:
    language = get_language() or ""
    return language.lower().startswith("en")


def label_for(name: str, name_en: str) -> str:
    """The label of a skill with these names in the active language."""
    if _english_active() and name_en:
        return name_en
    return name


#: The planner's pseudo-skill for "the crew's company serves this region" (plans
#: across all regions keep each job to such crews): the prefix, then the region code.
REGION_SKILL_PREFIX = "works in "


def region_skill(region_code: str) -> str:
    """The pseudo-skill a crew has when its company serves ``region_code``."""
    return f"{REGION_SKILL_PREFIX}{region_code}"


def skill_labels(codes: Iterable[str]) -> list[str]:
    """Each skill's label in the active language, in the given order.

    One query for all codes (and one more when region pseudo-skills are among
    them, which read "works in 神奈川・埼玉" / "神奈川・埼玉 の担当"); a code
    without a skill row is returned as is.
    """
    from sites.models import Region

    from .models import Skill

    codes = list(codes)
    if not codes:
        return []
    names = {
        code: label_for(name, name_en)
        for code, name, name_en in Skill.objects.filter(code__in=set(codes)).values_list(
            "code", "name", "name_en"
        )
    }
    regions = {
        code[len(REGION_SKILL_PREFIX) :] for code in codes if code.startswith(REGION_SKILL_PREFIX)
    }
    if regions:
        region_names = dict(Region.objects.filter(code__in=regions).values_list("code", "name"))
        for region in regions:
            names[region_skill(region)] = pgettext("region skill", "works in %(region)s") % {
                "region": region_names.get(region, region)
            }
    return [names.get(code, code) for code in codes]


def skill_label_map(codes: Iterable[str] | None = None) -> dict[str, str]:
    """``{code: label}`` in the active language, for all skills or the given codes."""
    from .models import Skill

    rows = Skill.objects.all()
    if codes is not None:
        rows = rows.filter(code__in=set(codes))
    return {
        code: label_for(name, name_en)
        for code, name, name_en in rows.values_list("code", "name", "name_en")
    }


def join_labels(labels: Iterable[str]) -> str:
    """Labels as one line: "融着接続、ONU 設定" in Japanese, "Splicing, ONU setup" in English."""
    return pgettext("list separator", ", ").join(labels)
