from django.urls import path

from apps.reviews import views

app_name = "reviews"

urlpatterns = [
    path("", views.queue_view, name="queue"),
    path("next/", views.start_next, name="start_next"),
    path("tasks/<int:pk>/", views.task_view, name="task"),
    path("reviews/<int:pk>/", views.review_detail, name="review_detail"),
    path("reviews/<int:pk>/draft/", views.review_draft, name="review_draft"),
    path("reviews/<int:pk>/submit/", views.review_submit, name="review_submit"),
    path("reviews/<int:pk>/disputes/", views.dispute_create, name="dispute_create"),
    path("my-reviews/", views.my_reviews, name="my_reviews"),
    path("submitted/", views.submitted_by_me, name="submitted_by_me"),
    path("disputes/", views.disputes_view, name="disputes"),
    path("disputes/<int:pk>/rule/", views.dispute_rule, name="dispute_rule"),
    path("calibrations/", views.calibrations_view, name="calibrations"),
    path("calibrations/candidates/", views.calibration_candidates_view, name="calibration_candidates"),
    path("calibrations/<int:pk>/", views.calibration_view, name="calibration"),
    path("calibrations/<int:pk>/items/<int:item_pk>/", views.calibration_item_view, name="calibration_item"),
    path("calibrations/<int:pk>/report/", views.calibration_report_view, name="calibration_report"),
    path("reports/", views.reports_view, name="reports"),
]
