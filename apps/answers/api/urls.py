from django.urls import path

import apps.core.api.converters  # noqa: F401 (registers "anytext")
from apps.answers.api.views import AnswerApi, ChooseApi, FeedbackApi

# The query id is parsed by the views (``anytext``, not ``uuid``): a malformed one gets the API's JSON 404 rather
# than the URL resolver's HTML page.
urlpatterns = [
    path("answers/", AnswerApi.as_view(), name="api-answer"),
    path("answers/<anytext:query_id>/choose/", ChooseApi.as_view(), name="api-answer-choose"),
    path("answers/<anytext:query_id>/feedback/", FeedbackApi.as_view(), name="api-answer-feedback"),
]
