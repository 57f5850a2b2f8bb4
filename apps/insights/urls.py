from django.urls import path

from apps.insights import views

app_name = "insights"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("knowledge/", views.knowledge, name="knowledge"),
]
