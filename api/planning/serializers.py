"""Input and output shapes of the planning endpoints."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from api.dates import SaneDateField
from api.model_serializer import ModelSerializer
from dispatch.batches import batch_plans
from dispatch.models import Crew, Job, OptimizationRun, Plan, PlanChange, PlanningBatch, Visit
from dispatch.regions import NO_CREW_DAYS
from dispatch.texts import localized_unassigned
from sites.models import Region


class RegionField(serializers.SlugRelatedField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(slug_field="code", queryset=Region.objects.all(), **kwargs)


class PlanSerializer(ModelSerializer):
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

    def to_representation(self, instance: Plan) -> dict[str, Any]:
        """The plan, its unplanned jobs' reasons in the request's language (``params`` kept)."""
        data = super().to_representation(instance)
        if data.get("unassigned"):
            data["unassigned"] = localized_unassigned(data["unassigned"])
        return data

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


class PartnerPlanSerializer(ModelSerializer):
    """What a partner sees of a published plan: its identity and dates, nothing internal."""

    class Meta:
        model = Plan
        fields = ["id", "name", "start_date", "end_date", "status", "version", "published_at"]
        read_only_fields = fields


class PlanCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    start_date = SaneDateField()
    end_date = SaneDateField()
    region = RegionField(allow_null=True, required=False)
    params = serializers.DictField(required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs["end_date"] < attrs["start_date"]:
            raise serializers.ValidationError({"end_date": _("must not be before start_date")})
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


class RunSerializer(ModelSerializer):
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


class VisitSerializer(ModelSerializer):
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
    date = SaneDateField()
    position = serializers.IntegerField(min_value=1, required=False)


class VisitPlaceSerializer(VisitMoveSerializer):
    job = serializers.PrimaryKeyRelatedField(queryset=Job.objects.all())
    take_over = serializers.BooleanField(
        default=False,
        help_text="Place a job that is live in another plan: publishing this plan moves it "
        "out of that plan (without it: 409 `scheduled_elsewhere`).",
    )


class PlanChangeSerializer(ModelSerializer):
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


# --- All regions at once (planning batches) ------------------------------------------


class PlanBatchCreateSerializer(serializers.Serializer):
    """A range to plan for several regions in one action; no ``regions`` = all of them."""

    start_date = SaneDateField()
    end_date = SaneDateField()
    regions = RegionField(
        many=True,
        required=False,
        help_text="Region codes; omitted: every region with ready jobs or active crews.",
    )
    time_limit_seconds = serializers.IntegerField(
        min_value=1, max_value=3600, required=False, help_text="Per region plan."
    )
    seed = serializers.IntegerField(min_value=0, max_value=2**31 - 1, required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs["end_date"] < attrs["start_date"]:
            raise serializers.ValidationError({"end_date": _("must not be before start_date")})
        if (attrs["end_date"] - attrs["start_date"]).days > 31:
            raise serializers.ValidationError({"end_date": _("a plan covers at most 31 days")})
        if "regions" in attrs and not attrs["regions"]:
            raise serializers.ValidationError({"regions": _("leave it out to plan every region")})
        return attrs


class PlanBatchPlanSerializer(serializers.Serializer):
    """One region plan of a batch: its share of crew-days, its run and its figures."""

    id = serializers.IntegerField()
    name = serializers.CharField()
    region = serializers.CharField(allow_null=True)
    status = serializers.CharField()
    crew_days_given = serializers.IntegerField()
    jobs_assigned = serializers.IntegerField()
    jobs_unassigned = serializers.IntegerField()
    total_km = serializers.FloatField()
    run = serializers.IntegerField(allow_null=True)
    run_status = serializers.CharField(allow_null=True)
    links = serializers.DictField(child=serializers.CharField())


class PlanBatchSerializer(ModelSerializer):
    """A planning batch: optimizing, finished (with its summary) or published."""

    status = serializers.SerializerMethodField()
    plans = serializers.SerializerMethodField()
    links = serializers.SerializerMethodField()

    class Meta:
        model = PlanningBatch
        fields = [
            "id", "start_date", "end_date", "status", "created_at", "finished_at", "summary",
            "plans", "links",
        ]  # fmt: skip
        read_only_fields = fields

    def get_status(self, batch: PlanningBatch) -> str:
        """``optimizing``, ``finished``, ``published`` or ``partly_published``."""
        if batch.finished_at is None:
            return "optimizing"
        publication = batch.summary.get("publication")
        if not publication:
            return "finished"
        done = {"published", "already_published"}
        if all(row["outcome"] in done for row in publication["plans"]):
            return "published"
        return "partly_published"

    @extend_schema_field(PlanBatchPlanSerializer(many=True))
    def get_plans(self, batch: PlanningBatch) -> list[dict[str, Any]]:
        runs = {run.plan_id: run for run in batch.runs.order_by("id")}
        rows = []
        for plan in batch_plans(batch):
            run = runs.get(plan.pk)
            rows.append(
                {
                    "id": plan.pk,
                    "name": plan.name,
                    "region": plan.region.code if plan.region else None,
                    "status": plan.status,
                    "crew_days_given": sum(
                        1 for pair in plan.crew_day_scope if pair not in NO_CREW_DAYS
                    ),
                    "jobs_assigned": plan.kpis.get("jobs_assigned", 0),
                    "jobs_unassigned": plan.kpis.get("jobs_unassigned", 0),
                    "total_km": plan.kpis.get("total_km", 0.0),
                    "run": run.pk if run else None,
                    "run_status": run.status if run else None,
                    "links": {
                        "plan": f"/api/v1/plans/{plan.pk}/",
                        "run": f"/api/v1/runs/{run.pk}/" if run else "",
                        "board": f"/plans/{plan.pk}/",
                    },
                }
            )
        return rows

    def get_links(self, batch: PlanningBatch) -> dict[str, str]:
        base = f"/api/v1/plan-batches/{batch.pk}/"
        return {"self": base, "publish": base + "publish/"}


class PlanBatchPublishedPlanSerializer(serializers.Serializer):
    """What publishing one region plan of a batch did."""

    plan_id = serializers.IntegerField()
    region = serializers.CharField(allow_null=True)
    outcome = serializers.ChoiceField(
        choices=["published", "already_published", "conflict", "refused"]
    )
    version = serializers.IntegerField(required=False)
    status = serializers.IntegerField(required=False, help_text="409 when not published.")
    code = serializers.CharField(required=False)
    message = serializers.CharField(required=False)
    conflicts = serializers.ListField(child=serializers.DictField(), required=False)


class PlanBatchPublishSerializer(serializers.Serializer):
    published = serializers.IntegerField()
    not_published = serializers.IntegerField()
    plans = PlanBatchPublishedPlanSerializer(many=True)
    batch = PlanBatchSerializer()
