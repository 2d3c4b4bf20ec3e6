from rest_framework.routers import SimpleRouter

from .views import PlanBatchViewSet, PlanViewSet, RunViewSet, VisitViewSet

router = SimpleRouter()
router.register("plans", PlanViewSet, basename="plan")
router.register("runs", RunViewSet, basename="run")
router.register("visits", VisitViewSet, basename="visit")
router.register("plan-batches", PlanBatchViewSet, basename="plan-batch")

urlpatterns = router.urls
