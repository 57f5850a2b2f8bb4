"""Error reports (the debug page, the e-mails to ADMINS) that never show where the data lives or how to
log in to it: service URLs, the broker, cache locations and anything holding a password are cleansed."""

from __future__ import annotations

import re

from django.views.debug import SafeExceptionReporterFilter

_CREDENTIALS_IN_URL = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://)[^/@\s]*@", re.IGNORECASE)


class CleansingExceptionReporterFilter(SafeExceptionReporterFilter):
    # Django's list, plus every setting that names a service: DATABASE_URL, REDIS_URL, CELERY_BROKER_URL,
    # CACHES' LOCATION, an embedding or rerank endpoint, a Sentry-style DSN.
    hidden_settings = re.compile(
        "API|AUTH|TOKEN|KEY|SECRET|PASS|SIGNATURE|HTTP_COOKIE|URL|LOCATION|BROKER|BACKEND_URL|DSN|ENDPOINT",
        flags=re.IGNORECASE,
    )

    def cleanse_setting(self, key, value):
        value = super().cleanse_setting(key, value)
        if type(value) is str:  # not lazy objects that pose as strings
            # user:password@ in any other value that holds a URL
            return _CREDENTIALS_IN_URL.sub(lambda m: m["scheme"] + self.cleansed_substitute + "@", value)
        return value
