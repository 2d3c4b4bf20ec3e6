from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "api"

    def ready(self) -> None:
        from django.db import models
        from rest_framework import serializers

        from .dates import SaneDateField, SaneDateTimeField

        # Model fields become the sane-range fields in every model serializer.
        mapping = serializers.ModelSerializer.serializer_field_mapping
        mapping[models.DateField] = SaneDateField
        mapping[models.DateTimeField] = SaneDateTimeField
