"""What bots did with each article, as columns of the knowledge editors' article list.

Knowledge's article admin knows nothing of bots; answers extends it here with the answers given in the last
30 days and how helpful customers found them, counted per row through ``AnswerQuery``'s article index.
"""

from __future__ import annotations

from datetime import timedelta

from django.contrib import admin
from django.db.models import Count, OuterRef, Subquery
from django.utils import timezone
from django.utils.translation import gettext_lazy

from apps.answers.models import AnswerQuery
from apps.knowledge.admin.articles import ArticleAdmin
from apps.knowledge.models import Article


def _answers_given(**lookups) -> Subquery:
    """How many bot answers gave the row's article, among those matching ``lookups``."""
    counted = (
        AnswerQuery.objects.filter(article=OuterRef("pk"), **lookups)
        .order_by()
        .values("article")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Subquery(counted[:1])


class ArticleWithBotUsageAdmin(ArticleAdmin):
    def get_list_display(self, request):
        columns = list(super().get_list_display(request))
        at = columns.index("owner") if "owner" in columns else len(columns)
        return [*columns[:at], "bot_uses", "helpful_rate", *columns[at:]]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                bot_uses_30d=_answers_given(created_at__gte=timezone.now() - timedelta(days=30)),
                helpful_yes=_answers_given(helpful=True),
                helpful_no=_answers_given(helpful=False),
            )
        )

    @admin.display(description=gettext_lazy("bot answers (30 days)"), ordering="bot_uses_30d")
    def bot_uses(self, obj: Article) -> int:
        return obj.bot_uses_30d or 0

    @admin.display(description=gettext_lazy("helpful"))
    def helpful_rate(self, obj: Article) -> str:
        rated = (obj.helpful_yes or 0) + (obj.helpful_no or 0)
        return f"{(obj.helpful_yes or 0) / rated:.0%} ({rated})" if rated else "—"


admin.site.unregister(Article)
admin.site.register(Article, ArticleWithBotUsageAdmin)
