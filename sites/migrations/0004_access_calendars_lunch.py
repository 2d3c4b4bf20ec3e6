"""Access hours become data: one daily window becomes ranges per weekday and holidays.

A survey's single ``access_start``/``access_end`` applied to every day, so it
becomes one range for all seven weekdays and holidays. Jobs used to copy that
window into their own ``window_start``/``window_end``; those fields now hold
the customer's promised time slot, so a copy that still equals its survey's
access window is cleared (the planner reads access hours from the survey).
"""

from django.db import migrations, models

EVERY_DAY = [0, 1, 2, 3, 4, 5, 6, 7]


def _hhmm(value):
    return value.strftime("%H:%M")


def access_window_to_hours(apps, schema_editor):
    SiteSurvey = apps.get_model("sites", "SiteSurvey")
    Job = apps.get_model("dispatch", "Job")
    copied = {}
    for survey in SiteSurvey.objects.exclude(access_start__isnull=True):
        survey.access_hours = [
            {
                "days": EVERY_DAY,
                "opens": _hhmm(survey.access_start),
                "closes": _hhmm(survey.access_end),
            }
        ]
        survey.save(update_fields=["access_hours"])
        copied[survey.pk] = (survey.access_start, survey.access_end)
    for job in Job.objects.filter(survey__in=list(copied)).exclude(window_start__isnull=True):
        if (job.window_start, job.window_end) == copied[job.survey_id]:
            job.window_start = job.window_end = None
            job.save(update_fields=["window_start", "window_end"])


def access_hours_to_window(apps, schema_editor):
    """Backwards: the first range of every survey becomes its daily window again."""
    SiteSurvey = apps.get_model("sites", "SiteSurvey")
    for survey in SiteSurvey.objects.exclude(access_hours=[]):
        first = survey.access_hours[0]
        survey.access_start = first["opens"]
        survey.access_end = "23:59" if first["closes"] == "24:00" else first["closes"]
        survey.save(update_fields=["access_start", "access_end"])


class Migration(migrations.Migration):
    dependencies = [
        ("sites", "0003_delivery_team"),
        ("dispatch", "0010_visit_release_cancelled"),
    ]

    operations = [
        migrations.AddField(
            model_name="site",
            name="access_hours",
            field=models.JSONField(
                blank=True,
                default=list,
                help_text="When crews may work in the building, as the planner reads it (see "
                "sites.access): the newest survey's or the order's; empty = any time.",
                verbose_name="access hours",
            ),
        ),
        migrations.AddField(
            model_name="site",
            name="access_notes",
            field=models.CharField(
                blank=True,
                help_text="What the access hours cannot say: key, escort, elevator booking…",
                max_length=300,
                verbose_name="access notes",
            ),
        ),
        migrations.AddField(
            model_name="sitesurvey",
            name="access_hours",
            field=models.JSONField(
                blank=True,
                default=list,
                help_text='[{"days": [0..6, 7 = holidays], "opens": "HH:MM", "closes": "HH:MM"}]; '
                "empty = any time. The whole visit must fit inside one range.",
                verbose_name="access hours",
            ),
        ),
        migrations.RunPython(access_window_to_hours, access_hours_to_window),
        migrations.RemoveConstraint(model_name="sitesurvey", name="survey_access_window_ordered"),
        migrations.RemoveConstraint(model_name="sitesurvey", name="survey_access_window_complete"),
        migrations.RemoveField(model_name="sitesurvey", name="access_end"),
        migrations.RemoveField(model_name="sitesurvey", name="access_start"),
        migrations.AlterField(
            model_name="sitesurvey",
            name="access_rules",
            field=models.CharField(
                blank=True,
                help_text="Key, escort, elevator booking…",
                max_length=300,
                verbose_name="access notes",
            ),
        ),
    ]
