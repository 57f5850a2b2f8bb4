"""QA reports for leads: scores by agent, team, channel and criterion over time, the most frequent
machine findings, reviewers' throughput and agreement. Aggregated in SQL over the lead's teams."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from django.db import connection
from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.core import csv_export
from apps.qa.models import Severity
from apps.reviews import selectors


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


def _scope(user) -> tuple[str, list]:
    if selectors.is_admin(user):
        return "TRUE", []
    return "c.team_id IN (SELECT team_id FROM conversations_team_leads WHERE user_id = %s)", [user.pk]


def _rows(sql: str, params: list) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def build(user, *, days: int = 56) -> ReportData:
    days = max(1, min(days, 366))
    since = timezone.now() - timedelta(days=days)
    scope, scope_params = _scope(user)
    data = ReportData(days)
    params = [since, *scope_params]
    for key, title, column, join in (
        (
            "agents",
            _("Scores by agent"),
            "COALESCE(NULLIF(a.name, ''), a.code)",
            "JOIN conversations_agent a ON a.id = c.served_by_id",
        ),
        ("teams", _("Scores by team"), "COALESCE(t.name, '—')", "LEFT JOIN conversations_team t ON t.id = c.team_id"),
        ("channels", _("Scores by channel"), "ch.name", "JOIN conversations_channel ch ON ch.id = c.channel_id"),
    ):
        rows = _rows(
            f"""
            SELECT {column} AS name, date_trunc('week', r.submitted_at)::date AS week, count(*),
                   round(avg(r.score), 1), count(*) FILTER (WHERE r.fatal)
            FROM reviews_review r
            JOIN conversations_conversation c ON c.id = r.conversation_id
            {join}
            WHERE r.status = 'submitted' AND r.calibration_item_id IS NULL AND r.submitted_at >= %s AND {scope}
            GROUP BY 1, 2 ORDER BY 1, 2
            """,
            params,
        )
        data.tables[key] = Table(title, [_("name"), _("week"), _("reviews"), _("average score"), _("fatal")], rows)
    data.tables["criteria"] = Table(
        _("Criteria"),
        [_("scorecard"), _("criterion"), _("week"), _("scored"), _("failed"), _("failure rate")],
        _rows(
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
            WHERE r.status = 'submitted' AND r.calibration_item_id IS NULL AND r.submitted_at >= %s AND {scope}
              AND o.value <> '"na"'
            GROUP BY s.name, cr.title, cr.id, 3 ORDER BY 1, 2, 3
            """,
            params,
        ),
    )
    data.tables["findings"] = Table(
        _("Most frequent findings"),
        [_("rule"), _("severity"), _("findings"), _("conversations")],
        _rows(
            f"""
            SELECT ru.name, ru.severity, count(*), count(DISTINCT f.conversation_id)
            FROM qa_finding f
            JOIN qa_autoscore sc ON sc.id = f.score_id
            JOIN qa_rule ru ON ru.id = f.rule_id
            JOIN conversations_conversation c ON c.id = f.conversation_id
            WHERE sc.computed_at >= %s AND {scope}
            GROUP BY ru.name, ru.severity ORDER BY 3 DESC LIMIT 20
            """,
            params,
        ),
    )
    # Severities in the reader's language, as everywhere else (the query returns their codes).
    severity_label = dict(Severity.choices)
    data.tables["findings"].rows = [
        [name, str(severity_label.get(severity, severity)), *rest]
        for name, severity, *rest in data.tables["findings"].rows
    ]
    data.tables["reviewers"] = Table(
        _("Reviewers"),
        [_("reviewer"), _("reviews"), _("average minutes"), _("average score given"), _("disputes"), _("overturned")],
        _rows(
            f"""
            SELECT u.username, count(DISTINCT r.id), round(avg(r.seconds_spent) / 60.0, 1), round(avg(r.score), 1),
                   count(d.id), count(d.id) FILTER (WHERE d.status = 'overturned')
            FROM reviews_review r
            JOIN auth_user u ON u.id = r.reviewer_id
            JOIN conversations_conversation c ON c.id = r.conversation_id
            LEFT JOIN reviews_dispute d ON d.review_id = r.id
            WHERE r.status = 'submitted' AND r.calibration_item_id IS NULL AND r.submitted_at >= %s AND {scope}
            GROUP BY u.username ORDER BY 2 DESC
            """,
            params,
        ),
    )
    data.tables["agreement"] = Table(
        _("Reviewer agreement with the reference (calibration)"),
        [_("reviewer"), _("criteria scored"), _("agreement %")],
        _rows(
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
        ),
    )
    teams = data.tables["teams"].rows
    weeks = sorted({row[1] for row in teams})
    data.charts["teams"] = {
        "labels": [w.isoformat() for w in weeks],
        "series": {
            name: [next((float(r[3]) for r in teams if r[0] == name and r[1] == w), None) for w in weeks]
            for name in sorted({row[0] for row in teams})
        },
    }
    findings = data.tables["findings"].rows[:10]
    data.charts["findings"] = {"labels": [r[0] for r in findings], "values": [r[2] for r in findings]}
    return data


def csv_response(table: Table, filename: str) -> HttpResponse:
    return csv_export.csv_response(filename, table.columns, table.rows)
