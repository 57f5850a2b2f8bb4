from django.urls import path

from apps.answers.api.views import AnswerApi, ChooseApi, FeedbackApi

urlpatterns = [
    path("answers/", AnswerApi.as_view(), name="api-answer"),
    path("answers/<uuid:query_id>/choose/", ChooseApi.as_view(), name="api-answer-choose"),
    path("answers/<uuid:query_id>/feedback/", FeedbackApi.as_view(), name="api-answer-feedback"),
]
