"""The audit trail, read-only, for coordinators: who changed what and when."""

from __future__ import annotations

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers

from accounts.models import Role
from api.model_serializer import ModelSerializer
from api.permissions import READ
from audit.models import AuditEvent
from audit.recorder import AUDITED

MODELS = sorted(label.lower() for label in AUDITED)


class AuditEventSerializer(ModelSerializer):
    class Meta:
        model = AuditEvent
        fields = [
            "id",
            "at",
            "actor",
            "actor_name",
            "via",
            "action",
            "model",
            "object_id",
            "changes",
        ]
        read_only_fields = fields


class AuditQuerySerializer(serializers.Serializer):
    model = serializers.ChoiceField(MODELS, required=False)
    object_id = serializers.CharField(max_length=40, required=False)
    actor = serializers.IntegerField(min_value=1, max_value=2**63 - 1, required=False)


@extend_schema(parameters=[AuditQuerySerializer])
class AuditEventListView(generics.ListAPIView):
    """Newest first. Filter by ``model`` and ``object_id`` for one record's history."""

    roles = {Role.COORDINATOR.value: READ}
    serializer_class = AuditEventSerializer

    def get_queryset(self) -> QuerySet[AuditEvent]:
        query = AuditQuerySerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        wanted = {
            {"actor": "actor_id"}.get(name, name): value
            for name, value in query.validated_data.items()
        }
        return AuditEvent.objects.filter(**wanted)
