from django.urls import path

from apps.conversations.api.views import ConversationDetailApi, ConversationsApi

urlpatterns = [
    path("conversations/", ConversationsApi.as_view(), name="api-conversations"),
    path(
        "conversations/<slug:channel>/<path:external_id>/",
        ConversationDetailApi.as_view(),
        name="api-conversation-detail",
    ),
]
