"""Routes of the CRUD endpoints under ``/api/v1/``; basenames are part of the API's names."""

from rest_framework.routers import DefaultRouter

from . import views

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("partner-companies", views.PartnerCompanyViewSet, basename="partner-company")
router.register("skills", views.SkillViewSet, basename="skill")
router.register("regions", views.RegionViewSet, basename="region")
router.register("crews", views.CrewViewSet, basename="crew")
router.register(
    "crew-unavailabilities", views.CrewUnavailabilityViewSet, basename="crew-unavailability"
)
router.register("sites", views.SiteViewSet, basename="site")
router.register("customers", views.CustomerViewSet, basename="customer")
router.register("contracts", views.ContractViewSet, basename="contract")
router.register("surveys", views.SiteSurveyViewSet, basename="survey")
router.register("site-permissions", views.SitePermissionViewSet, basename="site-permission")
router.register(
    "construction-records", views.ConstructionRecordViewSet, basename="construction-record"
)
router.register("jobs", views.JobViewSet, basename="job")

urlpatterns = router.urls
