from django.urls import path

from . import views

urlpatterns = [
    path("photos/", views.PhotoListView.as_view(), name="photos"),
    path("photos/<int:pk>/", views.PhotoDetailView.as_view(), name="photo-detail"),
    path("photos/<int:pk>/image/", views.PhotoImageView.as_view(), name="photo-image"),
    path("photos/<int:pk>/thumbnail/", views.PhotoThumbnailView.as_view(), name="photo-thumbnail"),
]
