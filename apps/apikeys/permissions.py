from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from apps.apikeys.models import ApiKey


class HasApiKeyScope(BasePermission):
    """The view's ``required_scope`` must be one of the key's scopes. Views without one are closed."""

    message = _("This API key does not have the scope this endpoint needs.")

    def has_permission(self, request: Request, view) -> bool:
        required = getattr(view, "required_scope", None)
        api_key = request.auth
        if not isinstance(api_key, ApiKey):
            return False
        if required is None:
            return False
        if not api_key.has_scope(required):
            self.message = _("This API key lacks the scope “%(scope)s”.") % {"scope": required}
            return False
        return True
