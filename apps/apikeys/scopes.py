from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

# Every scope a key can hold. Later modules add theirs here.
SCOPES: dict[str, str] = {
    "answers": _("Ask for answers (bots)"),
    "articles:read": _("Read published articles and scripts"),
    "releases:write": _("Record product releases (CI/CD)"),
    "conversations:write": _("Send conversations"),
    "conversations:read": _("Read conversations"),
}
SCOPE_CHOICES = [(code, format_lazy("{} — {}", code, label)) for code, label in SCOPES.items()]
