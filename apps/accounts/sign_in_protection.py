"""django-axes, named in the reader's language in the admin (its own app config leaves the name "Axes")."""

from axes.apps import AppConfig as AxesAppConfig
from django.utils.translation import gettext_lazy as _


class SignInProtectionConfig(AxesAppConfig):
    verbose_name = _("Sign-in protection")
