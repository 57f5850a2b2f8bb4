"""Roles are Django groups; this module is the single list of what each role may do.

Services check these permissions (``user.has_perm``), so a role's limits hold whatever the entry
point: admin, API, command or task.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q

KNOWLEDGE_EDITOR = "knowledge editor"
KNOWLEDGE_APPROVER = "knowledge approver"
QA_REVIEWER = "QA reviewer"
QA_LEAD = "QA lead"
AGENT = "agent"
ADMINISTRATOR = "administrator"

ALL_ROLES = [KNOWLEDGE_EDITOR, KNOWLEDGE_APPROVER, QA_REVIEWER, QA_LEAD, AGENT, ADMINISTRATOR]


def role_names(user) -> frozenset[str]:
    """The person's roles (group names), read once per user object: every page asks several times (its
    own door, the menu, the home), and the user object lives for one request."""
    if not getattr(user, "is_authenticated", False):
        return frozenset()
    cached = getattr(user, "_kb_role_names", None)
    if cached is None:
        cached = user._kb_role_names = frozenset(user.groups.values_list("name", flat=True))
    return cached


# --- who holds a role: the one place pages, menus and scopes ask (role_names is read once per user object) ---


def is_administrator(user) -> bool:
    """A superuser, or someone with the administrator role: sees and may do everything."""
    return getattr(user, "is_superuser", False) or ADMINISTRATOR in role_names(user)


def is_qa_lead(user) -> bool:
    """A QA lead (of the teams they lead), or an administrator."""
    return is_administrator(user) or QA_LEAD in role_names(user)


def is_qa_reviewer(user) -> bool:
    """Someone who scores conversations: a QA reviewer, a QA lead or an administrator."""
    return is_qa_lead(user) or QA_REVIEWER in role_names(user)


def is_agent(user) -> bool:
    """An agent: reads the reviews of the conversations they served, and disputes them."""
    return AGENT in role_names(user)


def may_read_knowledge_health(user) -> bool:
    """Knowledge editors and approvers, QA leads and administrators: what is stale, unused or unhelpful."""
    return is_qa_lead(user) or bool({KNOWLEDGE_EDITOR, KNOWLEDGE_APPROVER} & role_names(user))


def holding_any_role(*names: str) -> Q:
    """A filter on users: those who hold any of the roles ``names`` (by their groups)."""
    return Q(groups__name__in=names)


_KNOWLEDGE_READ = [
    "catalog.view_product",
    "catalog.view_feature",
    "catalog.view_release",
    "knowledge.view_category",
    "knowledge.view_article",
    "knowledge.view_articleversion",
    "knowledge.view_scriptscenario",
    "knowledge.view_script",
    "knowledge.view_scriptversion",
    "knowledge.view_staleflag",
    "answers.view_answerquery",
    "answers.view_synonym",
    "answers.view_term",
    "answers.view_humanonlytopic",
    "answers.view_answerpolicy",
    "answers.view_confidencefit",
]
_KNOWLEDGE_WRITE = [
    "knowledge.add_category",
    "knowledge.change_category",
    "knowledge.add_article",
    "knowledge.change_article",
    "knowledge.add_articleversion",
    "knowledge.add_scriptscenario",
    "knowledge.change_scriptscenario",
    "knowledge.add_script",
    "knowledge.change_script",
    "knowledge.add_scriptversion",
    "knowledge.verify_content",
    "knowledge.import_content",
    "catalog.add_feature",
    "catalog.change_feature",
    "answers.add_synonym",
    "answers.change_synonym",
    "answers.delete_synonym",
    "answers.add_term",
    "answers.change_term",
    "answers.delete_term",
]
_KNOWLEDGE_APPROVE = [
    "knowledge.publish_content",
    "knowledge.archive_content",
    "catalog.add_release",
    "catalog.change_release",
    "answers.add_humanonlytopic",
    "answers.change_humanonlytopic",
    "answers.add_answerpolicy",
    "answers.change_answerpolicy",
    "answers.delete_answerpolicy",
]

_CONVERSATIONS_READ = [
    "conversations.view_channel",
    "conversations.view_team",
    "conversations.view_agent",
    "conversations.view_customer",
    "conversations.view_conversation",
    "conversations.view_message",
    "conversations.view_slatier",
]
_CONVERSATIONS_MANAGE = [
    "conversations.add_team",
    "conversations.change_team",
    "conversations.change_agent",
    "conversations.add_slatier",
    "conversations.change_slatier",
    "conversations.change_channel",
]

_QA_READ = [
    "qa.view_lexicon",
    "qa.view_lexiconterm",
    "qa.view_rule",
    "qa.view_scorecard",
    "qa.view_scorecardversion",
    "qa.view_section",
    "qa.view_criterion",
    "qa.view_autoscore",
    "qa.view_finding",
    "qa.view_reviewtask",
    "qa.view_samplingplan",
    "qa.view_samplingrun",
    "qa.view_rescorejob",
    "reviews.view_review",
    "reviews.view_dispute",
    "reviews.view_calibrationsession",
]
_QA_MANAGE = [
    "qa.add_lexicon",
    "qa.change_lexicon",
    "qa.add_rule",
    "qa.change_rule",
    "qa.add_scorecard",
    "qa.change_scorecard",
    "qa.change_scorecardversion",
    "qa.add_section",
    "qa.change_section",
    "qa.delete_section",
    "qa.add_criterion",
    "qa.change_criterion",
    "qa.delete_criterion",
    "qa.add_samplingplan",
    "qa.change_samplingplan",
    "qa.change_reviewtask",
    "qa.add_rescorejob",
]

ROLE_PERMISSIONS: dict[str, list[str]] = {
    KNOWLEDGE_EDITOR: _KNOWLEDGE_READ + _KNOWLEDGE_WRITE,
    KNOWLEDGE_APPROVER: _KNOWLEDGE_READ + _KNOWLEDGE_WRITE + _KNOWLEDGE_APPROVE,
    QA_REVIEWER: _KNOWLEDGE_READ + _CONVERSATIONS_READ + _QA_READ,
    QA_LEAD: _KNOWLEDGE_READ + _CONVERSATIONS_READ + _CONVERSATIONS_MANAGE + _QA_READ + _QA_MANAGE,
    AGENT: [
        "knowledge.view_article",
        "knowledge.view_articleversion",
        "knowledge.view_script",
        "knowledge.view_scriptversion",
        "knowledge.view_scriptscenario",
        "catalog.view_product",
    ],
    ADMINISTRATOR: ["*"],
}


def sync_role_permissions(apps: Any) -> None:
    """Create the role groups and give each exactly its permissions (safe to run again).

    ``apps`` is the app registry of a migration (or ``django.apps.apps``).
    """
    from django.contrib.auth.management import create_permissions

    # Permissions are normally created after migrations finish; a fresh database needs them now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, verbosity=0, apps=apps)
        app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, codes in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        if codes == ["*"]:
            group.permissions.set(Permission.objects.all())
            continue
        wanted = []
        for code in codes:
            app_label, codename = code.split(".")
            wanted.extend(Permission.objects.filter(content_type__app_label=app_label, codename=codename))
        group.permissions.set(wanted)
