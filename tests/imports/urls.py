"""The project's URLs plus the import endpoints, until ``api/urls.py`` includes them.

Once it does, the duplicate patterns below resolve to the same views and this
module can go.
"""

from django.urls import include, path

from config.urls import handler404, handler500
from config.urls import urlpatterns as project_urlpatterns

__all__ = ["handler404", "handler500", "urlpatterns"]

urlpatterns = [path("api/v1/", include("api.imports.urls")), *project_urlpatterns]
