"""Input and output shapes of the planning endpoints."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from dispatch.models import Crew, Job, OptimizationRun, Plan, PlanChange, Visit
from sites.models import Region


class RegionField(serializers.SlugRelatedField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(slug_field="code", queryset=Region.objects.all(), **kwargs)


class PlanSerializer(serializers.ModelSerializer):
    """A plan as coordinators see it: its state, parameters, key figures and unplanned jobs."""

    region = RegionField(allow_null=True, required=False)
    revises = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)
    links = serializers.SerializerMethodField()

    class Meta:
        model = Plan
        fields = [
            "id", "name", "start_date", "end_date", "region", "status", "version", "params",
            "kpis", "unassigned", "revises", "published_at", "created_at", "updated_at", "links",
        ]  # fmt: skip
        read_only_fields = [
            "status", "version", "kpis", "unassigned", "revises", "published_at", "created_at",
            "updated_at",
        ]  # fmt: skip

    def get_links(self, plan: Plan) -> dict[str, str]:
        base = f"/api/v1/plans/{plan.pk}/"
        return {
            "self": base,
            "visits": base + "visits/",
            "runs": base + "runs/",
            "changes": base + "changes/",
            "optimize": base + "optimize/",
            "publish": base + "publish/",
        }


class PartnerPlanSerializer(serializers.ModelSerializer):
    """What a partner sees of a published plan: its identity and dates, nothing internal."""

    class Meta:
        model = Plan
        fields = ["id", "name", "start_date", "end_date", "status", "version", "published_at"]
        read_only_fields = fields


class PlanCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    start_date = serializers.DateField()
    end_date = serializers.DateField()
    region = RegionField(allow_null=True, required=False)
    params = serializers.DictField(required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs["end_date"] < attrs["start_date"]:
            raise serializers.ValidationError({"end_date": "must not be before start_date"})
        return attrs


class VersionSerializer(serializers.Serializer):
    version = serializers.IntegerField(
        min_value=1,
        required=False,
        help_text="The plan version you looked at; a stale one answers 409.",
    )


class OptimizeSerializer(serializers.Serializer):
    time_limit_seconds = serializers.IntegerField(min_value=1, max_value=3600, required=False)
    seed = serializers.IntegerField(min_value=0, max_value=2**31 - 1, required=False)


class RunSerializer(serializers.ModelSerializer):
    progress = serializers.SerializerMethodField()
    links = serializers.SerializerMethodField()

    class Meta:
        model = OptimizationRun
        fields = [
            "id", "plan", "status", "params", "seed", "time_limit_seconds", "elapsed_seconds",
            "best_objective_yen", "jobs_assigned", "jobs_total", "progress", "cancel_requested",
            "summary", "error", "decision", "decided_at", "created_at", "started_at",
            "finished_at", "links",
        ]  # fmt: skip
        read_only_fields = fields

    def get_progress(self, run: OptimizationRun) -> float:
        """Share of the time limit used, 0..1 (1 once finished)."""
        if not run.is_active:
            return 1.0
        return round(min(run.elapsed_seconds / max(run.time_limit_seconds, 1), 1.0), 3)

    def get_links(self, run: OptimizationRun) -> dict[str, str]:
        return {
            "self": f"/api/v1/runs/{run.pk}/",
            "cancel": f"/api/v1/runs/{run.pk}/cancel/",
            "accept": f"/api/v1/runs/{run.pk}/accept/",
            "discard": f"/api/v1/runs/{run.pk}/discard/",
            "plan": f"/api/v1/plans/{run.plan_id}/",
        }


class PublishPreviewLineSerializer(serializers.Serializer):
    crew = serializers.CharField()
    job = serializers.CharField()
    site = serializers.CharField()
    kind = serializers.CharField()
    before = serializers.JSONField(allow_null=True)
    after = serializers.JSONField(allow_null=True)


class PublishPreviewSerializer(serializers.Serializer):
    """What publishing would change for one partner company."""

    company = serializers.CharField()
    added = serializers.IntegerField()
    removed = serializers.IntegerField()
    moved = serializers.IntegerField()
    lines = PublishPreviewLineSerializer(many=True)


class VisitSerializer(serializers.ModelSerializer):
    job_reference = serializers.CharField(source="job.reference", read_only=True)
    job_status = serializers.CharField(source="job.status", read_only=True)
    site_name = serializers.CharField(source="job.site.name", read_only=True)
    crew_name = serializers.CharField(source="crew.name", read_only=True)
    on_schedule = serializers.BooleanField(
        source="is_live", read_only=True, help_text="On the live schedule partners see."
    )

    class Meta:
        model = Visit
        fields = [
            "id", "plan", "job", "job_reference", "job_status", "site_name", "crew", "crew_name",
            "date", "sequence", "planned_start", "planned_end", "travel_minutes_from_previous",
            "travel_m_from_previous", "locked", "on_schedule", "release_reason", "takes_over",
        ]  # fmt: skip
        read_only_fields = fields


class VisitMoveSerializer(VersionSerializer):
    crew = serializers.PrimaryKeyRelatedField(queryset=Crew.objects.all())
    date = serializers.DateField()
    position = serializers.IntegerField(min_value=1, required=False)


class VisitPlaceSerializer(VisitMoveSerializer):
    job = serializers.PrimaryKeyRelatedField(queryset=Job.objects.all())
    take_over = serializers.BooleanField(
        default=False,
        help_text="Place a job that is live in another plan: publishing this plan moves it "
        "out of that plan (without it: 409 `scheduled_elsewhere`).",
    )


class PlanChangeSerializer(serializers.ModelSerializer):
    job_reference = serializers.CharField(source="job.reference", read_only=True)
    crew_name = serializers.CharField(source="crew.name", read_only=True)
    company = serializers.IntegerField(source="crew.company_id", read_only=True)

    class Meta:
        model = PlanChange
        fields = [
            "id", "published_version", "company", "crew", "crew_name", "job", "job_reference",
            "kind", "before", "after",
        ]  # fmt: skip
        read_only_fields = fields
