"""QA reports for leads: scores by agent, team, channel and criterion over time, the most frequent
machine findings, reviewers' throughput and agreement. Each section is one query aggregated in SQL over
the lead's teams (an administrator's: every team); ``qa_report`` puts them together for the page."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.utils import timezone
from django.utils.translation import gettext as _

from apps.accounts import roles
from apps.core.sql import fetch_rows
from apps.qa.models import Severity

# A submitted review that counts in the reports: calibration reviews are practice, not the agents' scores.
_COUNTED_REVIEW = "r.status = 'submitted' AND r.calibration_item_id IS NULL AND r.submitted_at >= %s"

# By what scores are grouped: (the row's name, the join that reaches it).
_GROUPINGS = {
    "agents": ("COALESCE(NULLIF(a.name, ''), a.code)", "JOIN conversations_agent a ON a.id = c.served_by_id"),
    "teams": ("COALESCE(t.name, '—')", "LEFT JOIN conversations_team t ON t.id = c.team_id"),
    "channels": ("ch.name", "JOIN conversations_channel ch ON ch.id = c.channel_id"),
}


@dataclass
class Table:
    title: str
    columns: list[str]
    rows: list[tuple]


@dataclass
class ReportData:
    days: int
    tables: dict[str, Table] = field(default_factory=dict)
    charts: dict[str, dict] = field(default_factory=dict)


def _team_scope(user) -> tuple[str, list]:
    """The conversations this person reports on (``c``), as SQL and its parameters: a lead's teams'."""
    if roles.is_administrator(user):
        return "TRUE", []
    return "c.team_id IN (SELECT team_id FROM conversations_team_leads WHERE user_id = %s)", [user.pk]


def scores_by(user, since: datetime, grouping: str) -> list[tuple]:
    """(name, week, reviews, average score, fatal) per agent, team or channel (``grouping``: ``agents``,
    ``teams``, ``channels``) and week, for reviews submitted since ``since``."""
    name, join = _GROUPINGS[grouping]
    scope, scope_params = _team_scope(user)
    return fetch_rows(
        f"""
        SELECT {name} AS name, date_trunc('week', r.submitted_at)::date AS week, count(*),
               round(avg(r.score), 1), count(*) FILTER (WHERE r.fatal)
        FROM reviews_review r
        JOIN conversations_conversation c ON c.id = r.conversation_id
        {join}
        WHERE {_COUNTED_REVIEW} AND {scope}
        GROUP BY 1, 2 ORDER BY 1, 2
        """,
        [since, *scope_params],
    )


def criterion_failures(user, since: datetime) -> list[tuple]:
    """(scorecard, criterion, week, scored, failed, failure rate %) per criterion and week; N/A is not scored."""
    scope, scope_params = _team_scope(user)
    return fetch_rows(
        f"""
        SELECT s.name, cr.title, date_trunc('week', r.submitted_at)::date, count(*),
               count(*) FILTER (WHERE o.value = '"fail"'),
               round(100.0 * count(*) FILTER (WHERE o.value = '"fail"') / count(*), 1)
        FROM reviews_review r
        JOIN conversations_conversation c ON c.id = r.conversation_id
        CROSS JOIN LATERAL jsonb_each(r.outcomes) o
        JOIN qa_criterion cr ON cr.id = o.key::bigint
        JOIN qa_scorecardversion v ON v.id = cr.version_id
        JOIN qa_scorecard s ON s.id = v.scorecard_id
        WHERE {_COUNTED_REVIEW} AND {scope}
          AND o.value <> '"na"'
        GROUP BY s.name, cr.title, cr.id, 3 ORDER BY 1, 2, 3
        """,
        [since, *scope_params],
    )


def frequent_findings(user, since: datetime, *, limit: int = 20) -> list[list]:
    """(rule, severity in the reader's language, findings, conversations) of the rules that found most
    since ``since``, the most frequent first."""
    scope, scope_params = _team_scope(user)
    rows = fetch_rows(
        f"""
        SELECT ru.name, ru.severity, count(*), count(DISTINCT f.conversation_id)
        FROM qa_finding f
        JOIN qa_autoscore sc ON sc.id = f.score_id
        JOIN qa_rule ru ON ru.id = f.rule_id
        JOIN conversations_conversation c ON c.id = f.conversation_id
        WHERE sc.computed_at >= %s AND {scope}
        GROUP BY ru.name, ru.severity ORDER BY 3 DESC LIMIT %s
        """,
        [since, *scope_params, limit],
    )
    severity_label = dict(Severity.choices)  # the query returns the codes
    return [[name, str(severity_label.get(severity, severity)), *rest] for name, severity, *rest in rows]


def reviewer_throughput(user, since: datetime) -> list[tuple]:
    """(reviewer, reviews, average minutes, average score given, disputes, overturned) per reviewer, the
    busiest first."""
    scope, scope_params = _team_scope(user)
    return fetch_rows(
        f"""
        SELECT u.username, count(DISTINCT r.id), round(avg(r.seconds_spent) / 60.0, 1), round(avg(r.score), 1),
               count(d.id), count(d.id) FILTER (WHERE d.status = 'overturned')
        FROM reviews_review r
        JOIN auth_user u ON u.id = r.reviewer_id
        JOIN conversations_conversation c ON c.id = r.conversation_id
        LEFT JOIN reviews_dispute d ON d.review_id = r.id
        WHERE {_COUNTED_REVIEW} AND {scope}
        GROUP BY u.username ORDER BY 2 DESC
        """,
        [since, *scope_params],
    )


def reviewer_agreement(since: datetime) -> list[tuple]:
    """(reviewer, criteria scored, agreement %) with the lead's reference in calibration sessions since
    ``since``, the least agreeing first."""
    return fetch_rows(
        """
        SELECT u.username, count(*),
               round(100.0 * count(*) FILTER (WHERE o.value = ref.outcomes -> o.key) / count(*), 1)
        FROM reviews_review r
        JOIN auth_user u ON u.id = r.reviewer_id
        JOIN reviews_review ref ON ref.calibration_item_id = r.calibration_item_id AND ref.is_reference
             AND ref.status = 'submitted'
        CROSS JOIN LATERAL jsonb_each(r.outcomes) o
        WHERE r.status = 'submitted' AND NOT r.is_reference AND r.submitted_at >= %s AND ref.outcomes ? o.key
        GROUP BY u.username ORDER BY 3
        """,
        [since],
    )


def _team_chart(rows: list[tuple]) -> dict:
    """Each team's average score per week (None for a week without reviews), for the line chart."""
    weeks = sorted({row[1] for row in rows})
    return {
        "labels": [w.isoformat() for w in weeks],
        "series": {
            name: [next((float(r[3]) for r in rows if r[0] == name and r[1] == w), None) for w in weeks]
            for name in sorted({row[0] for row in rows})
        },
    }


def qa_report(user, *, days: int = 56) -> ReportData:
    """The reports page: every section over the last ``days`` (1 to 366), as tables (each exports to CSV)
    and the two charts drawn from them."""
    days = max(1, min(days, 366))
    since = timezone.now() - timedelta(days=days)
    data = ReportData(days)
    score_columns = [_("name"), _("week"), _("reviews"), _("average score"), _("fatal")]
    for grouping, title in (
        ("agents", _("Scores by agent")),
        ("teams", _("Scores by team")),
        ("channels", _("Scores by channel")),
    ):
        data.tables[grouping] = Table(title, score_columns, scores_by(user, since, grouping))
    data.tables["criteria"] = Table(
        _("Criteria"),
        [_("scorecard"), _("criterion"), _("week"), _("scored"), _("failed"), _("failure rate")],
        criterion_failures(user, since),
    )
    data.tables["findings"] = Table(
        _("Most frequent findings"),
        [_("rule"), _("severity"), _("findings"), _("conversations")],
        frequent_findings(user, since),
    )
    data.tables["reviewers"] = Table(
        _("Reviewers"),
        [_("reviewer"), _("reviews"), _("average minutes"), _("average score given"), _("disputes"), _("overturned")],
        reviewer_throughput(user, since),
    )
    data.tables["agreement"] = Table(
        _("Reviewer agreement with the reference (calibration)"),
        [_("reviewer"), _("criteria scored"), _("agreement %")],
        reviewer_agreement(since),
    )
    data.charts["teams"] = _team_chart(data.tables["teams"].rows)
    findings = data.tables["findings"].rows[:10]
    data.charts["findings"] = {"labels": [r[0] for r in findings], "values": [r[2] for r in findings]}
    return data
