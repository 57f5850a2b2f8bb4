from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.apikeys.models import ApiKey
from apps.apikeys.scopes import SCOPES
from apps.core.errors import ValidationFailed
from apps.core.generations import GenerationCachedValue, bump_generation

KEY_PREFIX = "kbp_"


@dataclass(frozen=True)
class IssuedKey:
    api_key: ApiKey
    plaintext: str  # shown to the user once, never stored


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def api_key_issue(
    *, name: str, scopes: list[str], created_by=None, rate_limit_per_minute: int | None = None, expires_at=None
) -> IssuedKey:
    unknown = sorted(set(scopes) - set(SCOPES))
    if not scopes or unknown:
        raise ValidationFailed(
            _("Unknown or missing scopes: %(scopes)s. Valid scopes: %(valid)s.")
            % {"scopes": ", ".join(unknown) or "-", "valid": ", ".join(SCOPES)},
            field_errors={"scopes": [_("Choose at least one valid scope.")]},
        )
    if not name.strip():
        raise ValidationFailed(_("A key needs a name."), field_errors={"name": [_("This field is required.")]})
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    api_key = ApiKey.objects.create(
        name=name.strip(),
        prefix=prefix,
        digest=_digest(secret),
        scopes=sorted(set(scopes)),
        created_by=created_by,
        rate_limit_per_minute=rate_limit_per_minute,
        expires_at=expires_at,
    )
    return IssuedKey(api_key=api_key, plaintext=f"{KEY_PREFIX}{prefix}_{secret}")


# Keys this process has looked up, valid while the shared generation stands: a bot's every request
# costs one cache read instead of a database query, and a revocation anywhere applies at once (the
# generation moves on and this process starts again from no known keys).
KEYS_GENERATION_KEY = "apikeys:generation"
_known_keys: GenerationCachedValue[dict[str, ApiKey]] = GenerationCachedValue(dict, keys=(KEYS_GENERATION_KEY,))


def api_keys_changed() -> None:
    """A key was revoked or edited: every process looks keys up again."""
    bump_generation(KEYS_GENERATION_KEY)


def _lookup(prefix: str) -> ApiKey | None:
    known = _known_keys.current()
    if prefix in known:
        return known[prefix]
    api_key = ApiKey.objects.filter(prefix=prefix).first()
    if api_key is not None:
        known[prefix] = api_key
    return api_key


def api_key_authenticate(*, plaintext: str) -> ApiKey | None:
    """The active key matching ``plaintext``, or None. Constant-time comparison of digests."""
    if not plaintext.startswith(KEY_PREFIX):
        return None
    prefix, _sep, secret = plaintext[len(KEY_PREFIX) :].partition("_")
    if not prefix or not secret:
        return None
    api_key = _lookup(prefix)
    if api_key is None or not hmac.compare_digest(api_key.digest, _digest(secret)) or not api_key.is_active:
        return None
    _touch(api_key)
    return api_key


def _touch(api_key: ApiKey) -> None:
    # At most one write a minute per key: the hot path stays read-only.
    now = timezone.now()
    if api_key.last_used_at and now - api_key.last_used_at < timedelta(minutes=1):
        return
    ApiKey.objects.filter(pk=api_key.pk).filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - timedelta(minutes=1))
    ).update(last_used_at=now)
    api_key.last_used_at = now


def api_key_revoke(*, api_key: ApiKey) -> ApiKey:
    if api_key.revoked_at is None:
        api_key.revoked_at = timezone.now()
        api_key.save(update_fields=["revoked_at"])
        # After commit: a process that reloads on the new generation must find the key already revoked.
        transaction.on_commit(api_keys_changed)
    return api_key
