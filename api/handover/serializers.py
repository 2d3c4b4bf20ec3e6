"""Input and output shapes of the handover endpoints (IP, billing, handover)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework import serializers

from api.dates import SaneDateField, SaneDateTimeField
from api.model_serializer import ModelSerializer
from dispatch.models import FactsStatus
from sites.models import BillingStatus, ConstructionRecord, ContractStatus, IpAssignment, IpPool

from ..partner.serializers import CompletionFactsSerializer, PartnerErrorSerializer

#: The API's one error shape, for the schema.
ErrorSerializer = PartnerErrorSerializer


class IpPoolSerializer(ModelSerializer):
    assigned_count = serializers.IntegerField(
        read_only=True, help_text="Addresses of this pool assigned to contracts."
    )

    class Meta:
        model = IpPool
        fields = ["id", "name", "network", "region", "is_active", "assigned_count"]
        read_only_fields = fields


class IpPoolCreateSerializer(ModelSerializer):
    network = serializers.CharField(
        max_length=43,
        help_text=(
            "CIDR, host bits zero (e.g. 203.0.113.0/28). The network, broadcast and "
            "first host (the gateway) are never handed out."
        ),
    )

    class Meta:
        model = IpPool
        fields = ["name", "network", "region", "is_active"]


class IpAllocateSerializer(serializers.Serializer):
    pool = serializers.PrimaryKeyRelatedField(
        queryset=IpPool.objects.all(),
        required=False,
        allow_null=True,
        help_text="Allocate from this pool; default: the active pools of the site's region.",
    )


class IpAssignmentSerializer(ModelSerializer):
    contract_id = serializers.CharField(source="contract.contract_id", read_only=True)
    pool_name = serializers.CharField(source="pool.name", read_only=True)

    class Meta:
        model = IpAssignment
        fields = ["contract", "contract_id", "pool", "pool_name", "address", "assigned_at"]
        read_only_fields = fields


class BillingSerializer(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=BillingStatus.choices,
        help_text="pending → requested → ready; requested → pending when the bank rejects.",
    )
    on = SaneDateField(
        required=False, help_text="The day billing became ready (only with status ready)."
    )

    def validate_on(self, value: dt.date) -> dt.date:
        if value > timezone.localdate():
            raise serializers.ValidationError(_("cannot be in the future"))
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if "on" in attrs and attrs["status"] != BillingStatus.READY:
            raise serializers.ValidationError({"on": [_("only goes with status 'ready'")]})
        return attrs


class BillingStateSerializer(serializers.Serializer):
    contract = serializers.IntegerField(source="pk")
    contract_id = serializers.CharField()
    billing_status = serializers.ChoiceField(choices=BillingStatus.choices)
    billing_ready_on = SaneDateField(allow_null=True)


class HandoverStatusSerializer(serializers.Serializer):
    contract = serializers.IntegerField()
    contract_id = serializers.CharField()
    status = serializers.ChoiceField(choices=ContractStatus.choices)
    handed_over_at = SaneDateTimeField(allow_null=True)
    ready = serializers.BooleanField(help_text="True when nothing blocks the handover.")
    blockers = serializers.ListField(
        child=serializers.CharField(), help_text="Every missing condition, in plain words."
    )
    pending_facts = CompletionFactsSerializer(
        many=True,
        help_text=(
            "Completion facts crews proposed for the contract's jobs, waiting for delivery "
            "to confirm or reject them (`/completion-facts/<id>/confirm/`). They do not "
            "block the handover."
        ),
    )


class HandoverBlockedBodySerializer(serializers.Serializer):
    status = serializers.IntegerField()
    code = serializers.CharField()
    message = serializers.CharField()
    blockers = serializers.ListField(child=serializers.CharField(), required=False)
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()), required=False
    )


class HandoverBlockedSerializer(serializers.Serializer):
    """409 ``handover_blocked``: ``blockers`` lists every missing condition."""

    error = HandoverBlockedBodySerializer()


# --- completion facts ---------------------------------------------------------------------


class CompletionFactsQuerySerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=FactsStatus.choices, required=False)
    site = serializers.IntegerField(required=False, min_value=1)
    job = serializers.IntegerField(required=False, min_value=1)
    contract = serializers.IntegerField(required=False, min_value=1)


class CompletionFactsRejectSerializer(serializers.Serializer):
    reason = serializers.CharField(
        max_length=1000, help_text="Why the facts do not go into the as-built record."
    )


class AsBuiltVersionSerializer(ModelSerializer):
    """One version of a site's as-built record (earlier versions stay as they were)."""

    class Meta:
        model = ConstructionRecord
        fields = [
            "id",
            "site",
            "job",
            "media_converter_location",
            "media_converter_serial",
            "port",
            "light_level_dbm",
            "cable_route",
            "riser",
            "notes",
            "recorded_by",
            "recorded_at",
            "archived_at",
        ]
        read_only_fields = fields


class CompletionFactsDecisionSerializer(serializers.Serializer):
    """A decided proposal and, when confirmed, the as-built version it wrote."""

    facts = CompletionFactsSerializer()
    record = AsBuiltVersionSerializer(allow_null=True)
