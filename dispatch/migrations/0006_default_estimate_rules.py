"""The default survey-to-estimate rule table (documented in docs/DELIVERY.md).

Coordinators change it in the admin afterwards; this only gives a new
installation a sensible start.
"""

from django.db import migrations

SKILLS = {
    "riser_cabling": "縦系配線（EPS・ライザー）",
    "core_drilling": "コア抜き・貫通工事",
    "fibre_splicing": "光ファイバー融着接続",
}

# name, field, operator, value, add_minutes, skill, reason
RULES = [
    ("No conduit in shared areas", "conduit_status", "eq", "none", 90, "riser_cabling",
     "no conduit or cable path in the shared areas: new cabling through the building"),
    ("Conduit full", "conduit_status", "eq", "full", 60, "core_drilling",
     "the conduit is full: a new penetration is needed"),
    ("Far from the base station", "distance_to_base_station_m", "gt", "500", 30, "fibre_splicing",
     "more than 500 m to the base station: extra pulling and a splice"),
    ("Very far from the base station", "distance_to_base_station_m", "gt", "1000", 30, None,
     "more than 1 km to the base station: a second pulling section"),
    ("New cabling in the building", "new_cabling_needed", "true", "", 45, "riser_cabling",
     "new cabling through the building"),
    ("Tall building", "site_floors", "gt", "10", 20, None,
     "more than 10 floors: longer riser run"),
    ("Escort required", "needs_escort", "true", "", 15, None,
     "the building requires an escort: waiting time at entry"),
    ("High complexity", "complexity", "eq", "high", 30, None,
     "the surveyor rated the site as complex"),
]


def create_rules(apps, schema_editor):
    Skill = apps.get_model("dispatch", "Skill")
    EstimateRule = apps.get_model("dispatch", "EstimateRule")
    for order, (name, field, operator, value, minutes, skill, reason) in enumerate(RULES):
        add_skill = None
        if skill is not None:
            add_skill, _ = Skill.objects.get_or_create(code=skill, defaults={"name": SKILLS[skill]})
        EstimateRule.objects.get_or_create(
            name=name,
            defaults={
                "field": field,
                "operator": operator,
                "value": value,
                "add_minutes": minutes,
                "add_skill": add_skill,
                "reason": reason,
                "order": order * 10,
            },
        )


def remove_rules(apps, schema_editor):
    apps.get_model("dispatch", "EstimateRule").objects.filter(
        name__in=[rule[0] for rule in RULES]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("dispatch", "0005_delivery_pipeline")]

    operations = [migrations.RunPython(create_rules, remove_rules)]
