from rest_framework.routers import SimpleRouter

from .views import PlanViewSet, RunViewSet, VisitViewSet

router = SimpleRouter()
router.register("plans", PlanViewSet, basename="plan")
router.register("runs", RunViewSet, basename="run")
router.register("visits", VisitViewSet, basename="visit")

urlpatterns = router.urls
