"""Crews' photos of sites (sites.SitePhoto, sites/photos.py)."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

import sites.models


class Migration(migrations.Migration):
    dependencies = [
        ("dispatch", "0013_slot_booking"),
        ("sites", "0006_construction_facts"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="SitePhoto",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("media_converter", "Media converter"),
                            ("port", "Port"),
                            ("cable_route", "Cable route"),
                            ("riser", "Riser"),
                            ("before", "Before the work"),
                            ("after", "After the work"),
                        ],
                        max_length=20,
                        verbose_name="kind",
                    ),
                ),
                ("caption", models.CharField(blank=True, max_length=300, verbose_name="caption")),
                (
                    "file",
                    models.FileField(
                        max_length=200,
                        storage=sites.models._photo_storage,
                        upload_to="",
                        verbose_name="file",
                    ),
                ),
                (
                    "thumbnail",
                    models.FileField(
                        max_length=200,
                        storage=sites.models._photo_storage,
                        upload_to="",
                        verbose_name="thumbnail",
                    ),
                ),
                ("content_type", models.CharField(max_length=40, verbose_name="content type")),
                ("width", models.PositiveIntegerField(verbose_name="width")),
                ("height", models.PositiveIntegerField(verbose_name="height")),
                ("bytes", models.PositiveIntegerField(verbose_name="size in bytes")),
                ("sha256", models.CharField(max_length=64, verbose_name="SHA-256 of the upload")),
                (
                    "idempotency_key",
                    models.CharField(
                        blank=True, max_length=64, null=True, verbose_name="idempotency key"
                    ),
                ),
                ("taken_at", models.DateTimeField(blank=True, null=True, verbose_name="taken at")),
                (
                    "created_at",
                    models.DateTimeField(
                        default=django.utils.timezone.now, verbose_name="uploaded at"
                    ),
                ),
                (
                    "company",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="dispatch.partnercompany",
                        verbose_name="partner company",
                    ),
                ),
                (
                    "job",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="photos",
                        to="dispatch.job",
                        verbose_name="job",
                    ),
                ),
                (
                    "site",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="photos",
                        to="sites.site",
                        verbose_name="site",
                    ),
                ),
                (
                    "uploaded_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="uploaded by",
                    ),
                ),
            ],
            options={
                "verbose_name": "site photo",
                "verbose_name_plural": "site photos",
                "ordering": ["-created_at", "-id"],
                "indexes": [
                    models.Index(fields=["site", "-created_at"], name="site_photo_site_recent")
                ],
                "constraints": [
                    models.UniqueConstraint(
                        condition=models.Q(("idempotency_key__isnull", False)),
                        fields=("uploaded_by", "idempotency_key"),
                        name="site_photo_idempotency_key_unique_per_user",
                    )
                ],
            },
        ),
    ]
