"""JSON bodies with a size limit. DRF's parsers read the request stream themselves, so Django's
``DATA_UPLOAD_MAX_MEMORY_SIZE`` never applies to them: without this a client could send any amount."""

from __future__ import annotations

import io

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from rest_framework import status
from rest_framework.exceptions import APIException, ParseError
from rest_framework.parsers import JSONParser


class PayloadTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = _("The request body is too large.")
    default_code = "payload_too_large"


class LimitedJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.API_MAX_BODY_BYTES
        request = (parser_context or {}).get("request")
        declared = request.META.get("CONTENT_LENGTH") if request is not None else None
        if declared and declared.isascii() and declared.isdigit() and int(declared) > limit:
            raise PayloadTooLarge(_("The request body is larger than %(limit)s bytes.") % {"limit": limit})
        body = stream.read(limit + 1) if stream is not None else b""
        if len(body) > limit:  # no (or a false) Content-Length: count what actually came
            raise PayloadTooLarge(_("The request body is larger than %(limit)s bytes.") % {"limit": limit})
        try:
            return super().parse(io.BytesIO(body), media_type, parser_context)
        except RecursionError:  # json.loads on [[[[…]]]] runs out of stack: bad input, not a server error
            raise ParseError(_("The JSON is nested too deeply.")) from None
