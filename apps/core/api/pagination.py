"""Pages of list endpoints, as the schema describes them: ``?page=`` from 1, ``?page_size=`` from 1 to 500.

DRF's paginator is lenient where the schema is not: it reads ``page_size=0`` or ``abc`` as the default and
``page_size=9999`` as 500, and answers 404 for ``page=0``. Here a value the schema forbids is a 400 naming
the parameter; a page past the last one is a 404 (documented as such). One serializer,
:class:`PageSerializer`, is both the check and what the schema shows, so the two cannot drift apart.
"""

from __future__ import annotations

from django.utils.functional import lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers
from rest_framework.pagination import PageNumberPagination

from apps.core.api.fields import QueryIntegerField, query_values
from apps.core.api.serializers import flat_errors
from apps.core.errors import ValidationFailed

MAX_PAGE_SIZE = 500


def _page_size_error() -> str:
    return gettext("A page size from 1 to %(n)s.") % {"n": MAX_PAGE_SIZE}


_PAGE_ERROR = _("A page number from 1.")
_PAGE_SIZE_ERROR = lazy(_page_size_error, str)()  # in the language of the request that fails


class PageSerializer(serializers.Serializer):
    """``?page=`` and ``?page_size=`` of a list endpoint: what :class:`StandardPagination` checks, and what the
    schema shows (list views name it in their ``parameters``)."""

    page = QueryIntegerField(
        required=False,
        min_value=1,
        help_text="Page number, from 1; past the last page: 404.",
        error_messages={"invalid": _PAGE_ERROR, "min_value": _PAGE_ERROR},
    )
    page_size = QueryIntegerField(
        required=False,
        min_value=1,
        max_value=MAX_PAGE_SIZE,
        help_text=f"Items per page (default 50, at most {MAX_PAGE_SIZE}).",
        error_messages={"invalid": _PAGE_SIZE_ERROR, "min_value": _PAGE_SIZE_ERROR, "max_value": _PAGE_SIZE_ERROR},
    )


class StandardPagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE
    last_page_strings = ()  # "page=last" is not an integer: the schema does not offer it

    def paginate_queryset(self, queryset, request, view=None):
        page = PageSerializer(data=query_values(request))
        if not page.is_valid():
            raise ValidationFailed(_("Invalid input."), field_errors=flat_errors(page.errors))
        return super().paginate_queryset(queryset, request, view)
