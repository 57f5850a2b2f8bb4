"""Scorecard versions and their JSON form (to copy a scorecard between teams or environments).

JSON format ``kbportal.scorecard/1``::

    {"format": "kbportal.scorecard/1", "name": "售后质检", "description": "…",
     "teams": ["售后一组"], "channels": ["wechat"],
     "sections": [{"title": "服务规范", "criteria": [
         {"title": "未使用服务禁语", "mode": "automatic", "kind": "standard", "points": 10, "fatal": false,
          "severity": "major", "allow_na": false, "rule": "forbidden-phrases", "description": "…"}]}]}

Rules are referred to by code and must exist where the file is imported; teams and channels that do
not exist there are reported.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.conversations.models import Channel, Team
from apps.core.errors import PermissionRefused, ValidationFailed
from apps.qa.models import AutoScore, Criterion, ReviewTask, Rule, Scorecard, ScorecardVersion, Section, Severity

FORMAT = "kbportal.scorecard/1"
MAX_TITLE = 200  # names and titles: the columns' length


class InvalidScorecard(ValidationFailed):
    """A scorecard (a file to import, or a version to publish) is not well formed: every problem by its path
    (``sections[0].criteria[1].points``) in ``errors`` (the ``field_errors``), all of them in the message."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("; ".join(f"{p}: {' '.join(m)}" for p, m in errors.items()), field_errors=errors)
        self.errors = errors


def version_in_use(version: ScorecardVersion) -> bool:
    """Scores or reviews refer to it: it must not change any more."""
    return AutoScore.objects.filter(version=version).exists() or ReviewTask.objects.filter(version=version).exists()


def _may_change_scorecards(by) -> None:
    if by is not None and not by.has_perm("qa.change_scorecardversion"):
        raise PermissionRefused(_("You may not change scorecards."))


@transaction.atomic
def scorecard_version_publish(version: ScorecardVersion, *, by=None) -> ScorecardVersion:
    """Make a draft the version new scores use; the version it replaces is retired (its scores stay).
    ``by``: the person asking (``None``: the system, e.g. the demo loader), checked whatever the door."""
    _may_change_scorecards(by)
    version = ScorecardVersion.objects.select_for_update().get(pk=version.pk)
    if version.status != ScorecardVersion.Status.DRAFT:
        raise InvalidScorecard({"status": [_("Only a draft can be published.")]})
    if not version.criteria.exists():
        raise InvalidScorecard({"criteria": [_("A scorecard needs at least one criterion.")]})
    ScorecardVersion.objects.filter(scorecard=version.scorecard, status=ScorecardVersion.Status.PUBLISHED).update(
        status=ScorecardVersion.Status.RETIRED
    )
    version.status, version.published_at = ScorecardVersion.Status.PUBLISHED, timezone.now()
    version.save(update_fields=["status", "published_at"])
    return version


@transaction.atomic
def scorecard_version_new_draft(scorecard: Scorecard, *, by=None) -> ScorecardVersion:
    """A draft to edit: a copy of the latest version (or the existing draft, if there is one)."""
    _may_change_scorecards(by)
    Scorecard.objects.select_for_update().get(pk=scorecard.pk)
    draft = scorecard.versions.filter(status=ScorecardVersion.Status.DRAFT).first()
    if draft is not None:
        return draft
    latest = scorecard.versions.order_by("-number").first()
    number = (scorecard.versions.aggregate(n=Max("number"))["n"] or 0) + 1
    draft = ScorecardVersion.objects.create(scorecard=scorecard, number=number)
    if latest is not None:
        _copy_criteria(latest, draft)
    return draft


def _copy_criteria(source: ScorecardVersion, target: ScorecardVersion) -> None:
    for section in source.sections.all():
        copy = Section.objects.create(version=target, title=section.title, position=section.position)
        Criterion.objects.bulk_create(
            [
                Criterion(
                    version=target,
                    section=copy,
                    title=c.title,
                    description=c.description,
                    mode=c.mode,
                    kind=c.kind,
                    points=c.points,
                    fatal=c.fatal,
                    severity=c.severity,
                    allow_na=c.allow_na,
                    human_only=c.human_only,
                    rule_id=c.rule_id,
                    position=c.position,
                )
                for c in section.criteria.all()
            ]
        )


def scorecard_export(version: ScorecardVersion) -> dict:
    scorecard = version.scorecard
    return {
        "format": FORMAT,
        "name": scorecard.name,
        "description": scorecard.description,
        "teams": sorted(t.name for t in scorecard.teams.all()),
        "channels": sorted(c.code for c in scorecard.channels.all()),
        "sections": [
            {
                "title": section.title,
                "criteria": [
                    {
                        "title": c.title,
                        "description": c.description,
                        "mode": c.mode,
                        "kind": c.kind,
                        "points": float(c.points),
                        "fatal": c.fatal,
                        "severity": c.severity,
                        "allow_na": c.allow_na,
                        "human_only": c.human_only,
                        "rule": c.rule.code if c.rule_id else None,
                    }
                    for c in section.criteria.select_related("rule")
                ],
            }
            for section in version.sections.all()
        ],
    }


@transaction.atomic
def scorecard_import(data: object, *, name: str | None = None) -> ScorecardVersion:
    """Create the scorecard (or a new draft of the one with that name) from its JSON form; every problem
    is reported by its path, and nothing is written unless all is well."""
    errors: dict[str, list[str]] = {}

    def err(path: str, message: str) -> None:
        errors.setdefault(path, []).append(message)

    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise InvalidScorecard({"format": [_("Not a scorecard file (format %(f)s).") % {"f": FORMAT}]})
    with_nul = _nul_path(data, "")
    if with_nul is not None:  # PostgreSQL cannot store it
        raise InvalidScorecard({with_nul or "$": [_("Contains a NUL character: remove it.")]})
    title = name or data.get("name")
    if not isinstance(title, str) or not title.strip():
        err("name", _("This field is required."))
    elif len(title.strip()) > MAX_TITLE:
        err("name", _("At most %(n)s characters.") % {"n": MAX_TITLE})
    if not isinstance(data.get("description") or "", str):
        err("description", _("Must be text."))
    names: dict[str, list[str]] = {}
    for key in ("teams", "channels"):
        value = data.get(key) or []
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            err(key, _("A list of names."))
            value = []
        names[key] = value
    teams = list(Team.objects.filter(name__in=names["teams"]))
    channels = list(Channel.objects.filter(code__in=names["channels"]))
    for path, wanted, found in (
        ("teams", names["teams"], {t.name for t in teams}),
        ("channels", names["channels"], {c.code for c in channels}),
    ):
        missing = sorted(set(wanted) - found)
        if missing:
            err(path, _("Unknown here: %(v)s.") % {"v": ", ".join(missing)})
    rules = {r.code: r for r in Rule.objects.all()}
    sections = data.get("sections")
    if not isinstance(sections, list) or not sections:
        err("sections", _("A non-empty list of sections."))
        sections = []
    planned: list[tuple[str, list[dict]]] = []
    for i, section in enumerate(sections):
        path = f"sections[{i}]"
        if not isinstance(section, dict) or not isinstance(section.get("title"), str) or not section["title"].strip():
            err(f"{path}.title", _("This field is required."))
            continue
        if len(section["title"].strip()) > MAX_TITLE:
            err(f"{path}.title", _("At most %(n)s characters.") % {"n": MAX_TITLE})
        criteria = section.get("criteria")
        if not isinstance(criteria, list) or not criteria:
            err(f"{path}.criteria", _("A non-empty list of criteria."))
            continue
        lines = []
        for j, raw in enumerate(criteria):
            line = _criterion(raw, f"{path}.criteria[{j}]", rules, err)
            if line is not None:
                lines.append(line)
        planned.append((section["title"].strip(), lines))
    if errors:
        raise InvalidScorecard(errors)
    scorecard, _created = Scorecard.objects.get_or_create(
        name=title.strip(),
        defaults={"description": data.get("description") or ""},  # type: ignore[union-attr]
    )
    scorecard.teams.set(teams)
    scorecard.channels.set(channels)
    draft = scorecard_version_new_draft(scorecard)
    draft.sections.all().delete()
    for position, (section_title, lines) in enumerate(planned):
        section = Section.objects.create(version=draft, title=section_title, position=position)
        Criterion.objects.bulk_create(
            [Criterion(version=draft, section=section, position=k, **line) for k, line in enumerate(lines)]
        )
    return draft


def _nul_path(value: object, path: str) -> str | None:
    """Where the first text (or key) holding a NUL character is, as a path like ``sections[0].title``."""
    if isinstance(value, str):
        return path if "\x00" in value else None
    if isinstance(value, dict):
        for key, item in value.items():
            inner = f"{path}.{key}" if path else str(key)
            if "\x00" in str(key):
                return inner.replace("\x00", "")
            if (found := _nul_path(item, inner)) is not None:
                return found
    if isinstance(value, list):
        for index, item in enumerate(value):
            if (found := _nul_path(item, f"{path}[{index}]")) is not None:
                return found
    return None


def _criterion(raw: object, path: str, rules: dict[str, Rule], err) -> dict | None:
    if not isinstance(raw, dict):
        err(path, _("A criterion must be an object."))
        return None
    line: dict = {}
    title = raw.get("title")
    if not isinstance(title, str) or not title.strip():
        err(f"{path}.title", _("This field is required."))
    elif len(title.strip()) > MAX_TITLE:
        err(f"{path}.title", _("At most %(n)s characters.") % {"n": MAX_TITLE})
    line["title"] = (title or "").strip() if isinstance(title, str) else ""
    line["description"] = raw.get("description") or ""
    if not isinstance(line["description"], str):
        err(f"{path}.description", _("Must be text."))
    for key, choices, default in (
        ("mode", Criterion.Mode.values, "manual"),
        ("kind", Criterion.Kind.values, "standard"),
        ("severity", Severity.values, "minor"),
    ):
        value = raw.get(key, default)
        if value not in choices:
            err(f"{path}.{key}", _("One of: %(v)s.") % {"v": ", ".join(choices)})
        line[key] = value
    try:
        points = Decimal(str(raw.get("points", 10)))
        if not 0 <= points <= 100:
            raise InvalidOperation
    except (InvalidOperation, ValueError):
        err(f"{path}.points", _("A number from 0 to 100."))
        points = Decimal(0)
    line["points"] = points
    for key, default in (("fatal", False), ("allow_na", True), ("human_only", False)):
        value = raw.get(key, default)
        if not isinstance(value, bool):
            err(f"{path}.{key}", _("true or false."))
        line[key] = bool(value)
    code = raw.get("rule")
    if code is not None and not isinstance(code, str):
        err(f"{path}.rule", _("The code of a rule, as text."))
        code = None
    elif code is not None and code not in rules:
        err(f"{path}.rule", _("No rule with the code “%(v)s” here.") % {"v": code})
    if line["mode"] != "manual" and not code:
        err(f"{path}.rule", _("Automatic and assisted criteria need a rule."))
    line["rule"] = rules.get(code) if code else None
    return line
