from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_serializer
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.catalog.follow_ups import follow_up_done
from apps.catalog.models import ReleaseSource
from apps.catalog.services import features_by_slug, product_by_slug, release_record
from apps.core.api.errors import not_found_on
from apps.core.api.fields import StrictCharField, StrictDateTimeField, StrictSlugField, version_validator
from apps.core.api.schema import api_errors
from apps.core.api.serializers import ErrorSerializer
from apps.core.versions import validate_version


class ReleaseCreateApi(APIView):
    """``POST /api/v1/releases/``: a CI/CD system records a release; stale flagging follows."""

    required_scope = "releases:write"

    @extend_schema_serializer(component_name="ReleaseRequest")
    class InputSerializer(serializers.Serializer):
        product = StrictSlugField(max_length=60, help_text="Product slug, e.g. `mall-app`; unknown: 404.")
        version = StrictCharField(
            max_length=40,
            validators=[version_validator, validate_version],
            help_text="The released version, e.g. `5.3.0`.",
        )
        released_at = StrictDateTimeField(required=False, help_text="Default: now.")
        changed_features = serializers.ListField(
            child=StrictSlugField(max_length=60),
            required=False,
            default=list,
            help_text="Slugs of the product's features this release changed; an unknown one: 404.",
        )
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
            return "done" if follow_up_done(release, "stale_check") else "queued"

    @extend_schema(
        request=InputSerializer,
        responses={
            201: OutputSerializer,
            200: OutputSerializer,
            **api_errors("releases:write", body=True, not_found="No such product, or no such feature of it."),
            409: OpenApiResponse(
                ErrorSerializer, description="That version is already recorded with other changed features."
            ),
        },
        tags=["releases"],
        description="Records a release (201), or returns the one already recorded for that version (200).",
    )
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        with not_found_on("product", "changed_features"):
            product = product_by_slug(data["product"])
            features_by_slug(product=product, slugs=data["changed_features"], field="changed_features")
        recorded = release_record(
            product=product,
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
