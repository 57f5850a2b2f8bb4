from django.urls import path

import apps.core.api.converters  # noqa: F401 (registers "anytext")
from apps.conversations.api.views import ConversationDetailApi, ConversationsApi

# ``str``/``anytext`` rather than ``slug``: any channel and id reach the view, which answers an unknown one with the
# API's JSON 404 (the URL resolver's own 404 would be an HTML page).
urlpatterns = [
    path("conversations/", ConversationsApi.as_view(), name="api-conversations"),
    path(
        "conversations/<str:channel>/<anytext:external_id>/",
        ConversationDetailApi.as_view(),
        name="api-conversation-detail",
    ),
]
