"""Pages of list endpoints, as the schema describes them: ``?page=`` from 1, ``?page_size=`` from 1 to 500.

DRF's paginator is lenient where the schema is not: it reads ``page_size=0`` or ``abc`` as the default and
``page_size=9999`` as 500, and answers 404 for ``page=0``. Here a value the schema forbids is a 400 naming
the parameter; a page past the last one is a 404 (documented as such).
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter
from rest_framework.pagination import PageNumberPagination

from apps.core.errors import ValidationFailed

MAX_PAGE_SIZE = 500

PAGE_PARAMETERS = [
    OpenApiParameter(
        "page", {"type": "integer", "minimum": 1}, description="Page number, from 1; past the last page: 404."
    ),
    OpenApiParameter(
        "page_size",
        {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE},
        description=f"Items per page (default 50, at most {MAX_PAGE_SIZE}).",
    ),
]


class StandardPagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE
    last_page_strings = ()  # "page=last" is not an integer: the schema does not offer it

    def paginate_queryset(self, queryset, request, view=None):
        errors = {}
        page = request.query_params.get("page")
        if page is not None and _number(page) < 1:
            errors["page"] = [_("A page number from 1.")]
        size = request.query_params.get("page_size")
        if size is not None and not 1 <= _number(size) <= MAX_PAGE_SIZE:
            errors["page_size"] = [_("A page size from 1 to %(n)s.") % {"n": MAX_PAGE_SIZE}]
        if errors:
            raise ValidationFailed(_("Invalid input."), field_errors=errors)
        return super().paginate_queryset(queryset, request, view)


def _number(raw: str) -> int:
    """Plain decimal digits as a number (a very long one as a very large number); anything else: 0."""
    if not (raw.isascii() and raw.isdigit()):
        return 0
    return int(raw) if len(raw) <= 18 else 10**18
