from __future__ import annotations

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.api.schema import api_errors


class PingApi(APIView):
    """``GET /api/v1/ping/``: authenticated no-op; lets a bot check its key (and measures the framework floor)."""

    required_scope = "answers"

    @extend_schema(
        responses={200: inline_serializer("Pong", {"ok": serializers.BooleanField()}), **api_errors("answers")},
        tags=["answers"],
    )
    def get(self, request: Request) -> Response:
        return Response({"ok": True})
