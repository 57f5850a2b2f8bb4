"""Admin actions are offered to, and run for, only those who may do what they do: a role that may only
view a list sees no action that changes it, and posting the action anyway changes nothing."""

import pytest
from django.contrib import admin

from apps.accounts import roles
from apps.catalog.models import Release
from apps.knowledge.models import StaleFlag
from apps.qa.models import Scorecard, ScorecardVersion
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

# (model, action, a role that may view the list but must not run the action)
GUARDED = [
    (Release, "recheck_stale", roles.KNOWLEDGE_EDITOR),
    (StaleFlag, "verify_content", roles.QA_REVIEWER),
    (Scorecard, "new_draft", roles.QA_REVIEWER),
    (ScorecardVersion, "publish", roles.QA_REVIEWER),
]


@pytest.mark.parametrize(("model", "action", "role"), GUARDED)
def test_a_viewer_is_not_offered_and_cannot_run_a_changing_action(rf, model, action, role):
    user = UserFactory(role=role)
    request = rf.get("/")
    request.user = user
    model_admin = admin.site._registry[model]
    assert model_admin.has_view_permission(request)  # the list is theirs to read
    assert action not in model_admin.get_actions(request)


def test_every_admin_action_declares_who_may_run_it():
    """Django's own delete action aside, no action is left to whoever can open the list."""
    for model, model_admin in admin.site._registry.items():
        for name in model_admin.actions or []:
            function = getattr(model_admin, name) if isinstance(name, str) else name
            assert getattr(function, "allowed_permissions", None), (
                f"{model.__name__}.{getattr(function, '__name__', name)}"
            )


def test_the_stale_check_service_checks_who_asks():
    from apps.catalog.services import release_record
    from apps.core.errors import PermissionRefused
    from apps.knowledge.services.stale import release_queue_stale_check
    from tests.factories import ProductFactory

    release = release_record(
        product=ProductFactory(slug="mall-app"), version="5.3.0", changed_feature_slugs=[], announce=False
    ).release
    with pytest.raises(PermissionRefused):
        release_queue_stale_check(release=release, by=UserFactory(role=roles.QA_REVIEWER))
    release_queue_stale_check(release=release, by=UserFactory(role=roles.ADMINISTRATOR))  # queued after commit
