"""API tokens expire: ``expires_at``, filled in for the tokens that exist at deploy.

An existing token gets ``created_at + API_TOKEN_LIFETIME_DAYS``, but never less
than ``NOTICE_DAYS`` from the moment of the migration: a crew tablet holding a
token older than the lifetime keeps working long enough for its owner to
rotate it, instead of failing in the field on deploy day.
"""

import datetime as dt

from django.conf import settings
from django.db import migrations, models
from django.utils import timezone

import accounts.models

NOTICE_DAYS = 14


def fill_expiry(apps, schema_editor):
    ApiToken = apps.get_model("accounts", "ApiToken")
    lifetime = dt.timedelta(days=settings.API_TOKEN_LIFETIME_DAYS)
    earliest = timezone.now() + dt.timedelta(days=NOTICE_DAYS)
    for token in ApiToken.objects.filter(expires_at__isnull=True).only("pk", "created_at"):
        token.expires_at = max(token.created_at + lifetime, earliest)
        token.save(update_fields=["expires_at"])


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_api_tokens"),
    ]

    operations = [
        migrations.AddField(
            model_name="apitoken",
            name="expires_at",
            field=models.DateTimeField(null=True, verbose_name="expires at"),
        ),
        migrations.RunPython(fill_expiry, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="apitoken",
            name="expires_at",
            field=models.DateTimeField(
                default=accounts.models.default_token_expiry, verbose_name="expires at"
            ),
        ),
    ]
