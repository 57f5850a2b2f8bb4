from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.catalog.models import ReleaseSource
from apps.catalog.services import product_by_slug, release_record
from apps.core.api.fields import StrictCharField, StrictDateTimeField, StrictSlugField
from apps.core.api.schema import api_errors
from apps.core.versions import validate_version


class ReleaseCreateApi(APIView):
    """``POST /api/v1/releases/``: a CI/CD system records a release; stale flagging follows."""

    required_scope = "releases:write"

    @extend_schema_serializer(component_name="ReleaseRequest")
    class InputSerializer(serializers.Serializer):
        product = StrictSlugField()
        version = StrictCharField(max_length=40, validators=[validate_version])
        released_at = StrictDateTimeField(required=False)
        changed_features = serializers.ListField(child=StrictSlugField(), required=False, default=list)
        notes = StrictCharField(required=False, allow_blank=True, default="")

    @extend_schema_serializer(component_name="Release")
    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        product = serializers.CharField(source="product.slug")
        version = serializers.CharField()
        released_at = serializers.DateTimeField()
        changed_features = serializers.SerializerMethodField()
        notes = serializers.CharField()
        stale_check = serializers.SerializerMethodField()

        def get_changed_features(self, release) -> list[str]:
            return sorted(f.slug for f in release.changed_features.all())

        def get_stale_check(self, release) -> str:
            return "done" if release.stale_check_done_at else "queued"

    @extend_schema(
        request=InputSerializer,
        responses={201: OutputSerializer, 200: OutputSerializer, **api_errors("releases:write", body=True)},
        tags=["releases"],
        description="Records a release (201), or returns the one already recorded for that version (200).",
    )
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        recorded = release_record(
            product=product_by_slug(data["product"]),
            version=data["version"],
            changed_feature_slugs=data["changed_features"],
            released_at=data.get("released_at"),
            notes=data["notes"],
            source=ReleaseSource.API,
        )
        return Response(
            self.OutputSerializer(recorded.release).data,
            status=status.HTTP_201_CREATED if recorded.created else status.HTTP_200_OK,
        )
