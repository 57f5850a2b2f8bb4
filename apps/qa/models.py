"""Quality assurance (质检): lexicons and rules that machines apply to every conversation, versioned
scorecards that turn rule results into scores, sampling plans (抽检) and the review tasks they queue."""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from apps.conversations.models import Channel, Conversation, Message, Team


class Severity(models.TextChoices):
    INFO = "info", _("info")
    MINOR = "minor", _("minor")
    MAJOR = "major", _("major")
    CRITICAL = "critical", _("critical")


SEVERE = (Severity.MAJOR, Severity.CRITICAL)


class LexiconKind(models.TextChoices):
    FORBIDDEN = "forbidden", _("forbidden phrases (服务禁语)")
    SENSITIVE = "sensitive", _("sensitive words (敏感词)")
    COMPLAINT = "complaint", _("complaint words (投诉)")
    EMOTION = "emotion", _("emotion words (情绪)")
    REQUIRED = "required", _("required phrases (greeting, closing …)")
    OTHER = "other", _("other")


class Lexicon(models.Model):
    """A named list of terms rules match (Aho-Corasick: tens of thousands of terms cost one pass)."""

    code = models.SlugField(_("code"), max_length=60, unique=True, allow_unicode=True)
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=20, choices=LexiconKind.choices, default=LexiconKind.OTHER)
    description = models.TextField(_("description"), blank=True)
    term_count = models.PositiveIntegerField(_("terms"), default=0, editable=False)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("lexicon")
        verbose_name_plural = _("lexicons")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class LexiconTerm(models.Model):
    lexicon = models.ForeignKey(Lexicon, on_delete=models.CASCADE, related_name="terms", verbose_name=_("lexicon"))
    term = models.CharField(_("term"), max_length=100)

    class Meta:
        verbose_name = _("lexicon term")
        verbose_name_plural = _("lexicon terms")
        constraints = [models.UniqueConstraint(fields=["lexicon", "term"], name="lexicon_term_unique")]

    def __str__(self) -> str:
        return self.term


class Rule(models.Model):
    """A condition tree (质检规则) evaluated on a conversation; see ``apps.qa.rules.conditions``."""

    code = models.SlugField(_("code"), max_length=60, unique=True)
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    severity = models.CharField(_("severity"), max_length=10, choices=Severity.choices, default=Severity.MINOR)
    condition = models.JSONField(
        _("condition"),
        help_text=_(
            'A condition tree, e.g. {"all": [{"type": "keywords", "lexicon": "forbidden", "role": "agent"}, '
            '{"not": {"type": "metadata", "field": "channel", "op": "in", "value": ["phone"]}}]}.'
        ),
    )
    is_active = models.BooleanField(_("active"), default=True)
    marks_risk = models.BooleanField(
        _("marks a conversation risky"),
        default=False,
        help_text=_("Sampling plans review every conversation where it fires (negative emotion, complaints …)."),
    )
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("rule")
        verbose_name_plural = _("rules")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} · {self.name}"


class Scorecard(models.Model):
    """What a team's conversations are scored against; its criteria live in versions."""

    name = models.CharField(_("name"), max_length=200, unique=True)
    description = models.TextField(_("description"), blank=True)
    teams = models.ManyToManyField(
        Team, blank=True, related_name="scorecards", verbose_name=_("teams"), help_text=_("Empty: every team.")
    )
    channels = models.ManyToManyField(
        Channel,
        blank=True,
        related_name="scorecards",
        verbose_name=_("channels"),
        help_text=_("Empty: every channel."),
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("scorecard")
        verbose_name_plural = _("scorecards")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ScorecardVersion(models.Model):
    """Criteria as they were when scores were given. A version in use is never edited: editing makes a
    new draft, and publishing it makes it the one new scores use."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("draft")
        PUBLISHED = "published", _("published")
        RETIRED = "retired", _("retired")

    scorecard = models.ForeignKey(
        Scorecard, on_delete=models.CASCADE, related_name="versions", verbose_name=_("scorecard")
    )
    number = models.PositiveIntegerField(_("version"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.DRAFT)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    published_at = models.DateTimeField(_("published"), null=True, blank=True)

    class Meta:
        verbose_name = _("scorecard version")
        verbose_name_plural = _("scorecard versions")
        ordering = ["scorecard", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["scorecard", "number"], name="scorecard_version_number_unique"),
            models.UniqueConstraint(
                fields=["scorecard"], condition=Q(status="published"), name="one_published_scorecard_version"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.scorecard.name} v{self.number}"


class Section(models.Model):
    version = models.ForeignKey(ScorecardVersion, on_delete=models.CASCADE, related_name="sections")
    title = models.CharField(_("title"), max_length=200)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("section")
        verbose_name_plural = _("sections")
        ordering = ["version", "position", "id"]

    def __str__(self) -> str:
        return self.title


class Criterion(models.Model):
    """One line of a scorecard. How it scores is in ``apps.qa.scorecard_maths``."""

    class Mode(models.TextChoices):
        AUTOMATIC = "automatic", _("automatic (a rule decides)")
        MANUAL = "manual", _("manual (a reviewer decides)")
        ASSISTED = "assisted", _("assisted (a rule pre-fills, a reviewer confirms)")

    class Kind(models.TextChoices):
        STANDARD = "standard", _("standard: earns its points when passed")
        DEDUCTION = "deduction", _("deduction: takes points off when failed")
        BONUS = "bonus", _("bonus: adds points when met")

    version = models.ForeignKey(ScorecardVersion, on_delete=models.CASCADE, related_name="criteria")
    section = models.ForeignKey(Section, on_delete=models.CASCADE, related_name="criteria", verbose_name=_("section"))
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    mode = models.CharField(_("mode"), max_length=10, choices=Mode.choices, default=Mode.MANUAL)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.STANDARD)
    points = models.DecimalField(_("points"), max_digits=5, decimal_places=2, default=10)
    fatal = models.BooleanField(_("fatal (一票否决)"), default=False, help_text=_("Failing it zeroes the review."))
    severity = models.CharField(_("severity"), max_length=10, choices=Severity.choices, default=Severity.MINOR)
    allow_na = models.BooleanField(_("may be N/A"), default=True)
    human_only = models.BooleanField(
        _("only where a human served"),
        default=False,
        help_text=_("On a conversation the bot handled alone, the review starts with this criterion as N/A."),
    )
    rule = models.ForeignKey(
        Rule,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="criteria",
        verbose_name=_("rule"),
        help_text=_("Automatic and assisted criteria: the criterion fails (a bonus: is met) when the rule fires."),
    )
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("criterion")
        verbose_name_plural = _("criteria")
        ordering = ["version", "section__position", "position", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(points__gte=0) & Q(points__lte=100), name="criterion_points_0_100"),
            models.CheckConstraint(
                condition=Q(mode="manual") | Q(rule__isnull=False), name="automatic_criterion_has_rule"
            ),
        ]

    def __str__(self) -> str:
        return self.title


class AutoScore(models.Model):
    """The machine's score of a conversation against a scorecard version: one per pair, rewritten (never
    duplicated) when the conversation or the rules change."""

    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="auto_scores", verbose_name=_("conversation")
    )
    version = models.ForeignKey(
        ScorecardVersion, on_delete=models.CASCADE, related_name="auto_scores", verbose_name=_("version")
    )
    score = models.DecimalField(_("score"), max_digits=5, decimal_places=2)
    fatal = models.BooleanField(_("fatal"), default=False)
    outcomes = models.JSONField(_("criterion outcomes"), default=dict)  # criterion id → pass / fail / na
    finding_count = models.PositiveIntegerField(_("findings"), default=0)
    worst_severity = models.CharField(_("worst severity"), max_length=10, choices=Severity.choices, blank=True)
    risky = models.BooleanField(_("risky"), default=False)  # a rule that marks risk fired
    rules_signature = models.CharField(
        max_length=64, editable=False, verbose_name=_("rules signature")
    )  # the rule versions it was computed with
    computed_at = models.DateTimeField(_("computed"))

    class Meta:
        verbose_name = _("automatic score")
        verbose_name_plural = _("automatic scores")
        constraints = [
            models.UniqueConstraint(fields=["conversation", "version"], name="auto_score_unique_per_version")
        ]
        indexes = [models.Index(fields=["version", "score"], name="auto_score_version_idx")]

    def __str__(self) -> str:
        return f"{self.conversation} {self.score}"


class Finding(models.Model):
    """Why a rule fired, with its evidence: which message, which characters, which text."""

    score = models.ForeignKey(AutoScore, on_delete=models.CASCADE, related_name="findings")
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="+", db_index=False)
    rule = models.ForeignKey(Rule, on_delete=models.CASCADE, related_name="findings", db_index=False)
    severity = models.CharField(_("severity"), max_length=10, choices=Severity.choices)
    message = models.ForeignKey(Message, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    start = models.PositiveIntegerField(_("start"), null=True, blank=True)
    end = models.PositiveIntegerField(_("end"), null=True, blank=True)
    matched = models.CharField(_("matched text"), max_length=200, blank=True)
    detail = models.CharField(_("detail"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("finding")
        verbose_name_plural = _("findings")
        indexes = [
            models.Index(fields=["rule", "conversation"], name="finding_rule_idx"),
            models.Index(fields=["conversation"], name="finding_conversation_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.rule_id}: {self.matched or self.detail}"


class RescoreJob(models.Model):
    """Rescoring a date range after a rule or scorecard change, in batches, with progress."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("queued")
        RUNNING = "running", _("running")
        DONE = "done", _("done")

    started_from = models.DateTimeField(_("conversations from"))
    started_to = models.DateTimeField(_("conversations to"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.QUEUED)
    total = models.PositiveIntegerField(_("conversations"), default=0)
    done = models.PositiveIntegerField(_("scored"), default=0)
    last_id = models.BigIntegerField(
        default=0, editable=False, verbose_name=_("last id")
    )  # conversations up to this id are done
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("created by")
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        verbose_name = _("rescoring job")
        verbose_name_plural = _("rescoring jobs")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.started_from:%Y-%m-%d} – {self.started_to:%Y-%m-%d}"


class SamplingPlan(models.Model):
    """Which conversations people review (抽检): a random share per agent and period, every risky one,
    more of new agents'; each period sampled once (reproducibly, from a seed)."""

    class Period(models.TextChoices):
        DAY = "day", _("daily")
        WEEK = "week", _("weekly")

    class Assignment(models.TextChoices):
        ROUND_ROBIN = "round_robin", _("round robin")
        LEAST_LOADED = "least_loaded", _("least loaded")

    name = models.CharField(_("name"), max_length=200, unique=True)
    scorecard = models.ForeignKey(
        Scorecard, on_delete=models.PROTECT, related_name="plans", verbose_name=_("scorecard")
    )
    is_active = models.BooleanField(_("active"), default=True)
    period = models.CharField(_("period"), max_length=10, choices=Period.choices, default=Period.DAY)
    rate_percent = models.DecimalField(_("random share (%)"), max_digits=5, decimal_places=2, default=2)
    min_per_agent = models.PositiveIntegerField(_("at least per agent"), default=1)
    max_per_agent = models.PositiveIntegerField(_("at most per agent"), default=20)
    strata = ArrayField(
        models.CharField(
            max_length=10, choices=[("channel", _("channel")), ("team", _("team")), ("product", _("product"))]
        ),
        default=list,
        blank=True,
        verbose_name=_("stratify by"),
        help_text=_("The share and the limits apply per agent within each channel / team / product."),
    )
    channels = models.ManyToManyField(Channel, blank=True, related_name="+", verbose_name=_("channels"))
    teams = models.ManyToManyField(Team, blank=True, related_name="+", verbose_name=_("teams"))
    include_risky = models.BooleanField(
        _("all risky conversations"),
        default=True,
        help_text=_(
            "Fatal or severe findings, negative emotion, complaints, low CSAT, SLA breaches and bot failure "
            "streaks are all reviewed, outside the quota."
        ),
    )
    low_csat = models.PositiveSmallIntegerField(_("low CSAT is at most"), default=2)
    failure_streak = models.PositiveSmallIntegerField(_("bot failure streak from"), default=3)
    new_agent_days = models.PositiveIntegerField(_("new agents: first days"), default=30)
    new_agent_rate_percent = models.DecimalField(
        _("new agents: random share (%)"), max_digits=5, decimal_places=2, default=10
    )
    min_messages = models.PositiveIntegerField(_("skip conversations under N messages"), default=3)
    reviewers = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="sampling_plans", verbose_name=_("reviewers")
    )
    assignment = models.CharField(
        _("assignment"), max_length=20, choices=Assignment.choices, default=Assignment.LEAST_LOADED
    )
    due_days = models.PositiveSmallIntegerField(_("due after days"), default=2)

    class Meta:
        verbose_name = _("sampling plan")
        verbose_name_plural = _("sampling plans")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class SamplingRun(models.Model):
    plan = models.ForeignKey(SamplingPlan, on_delete=models.CASCADE, related_name="runs", verbose_name=_("plan"))
    period_start = models.DateTimeField(_("period start"))
    period_end = models.DateTimeField(_("period end"))
    seed = models.BigIntegerField(_("seed"))
    sampled = models.PositiveIntegerField(_("sampled"), default=0)
    risky = models.PositiveIntegerField(_("risky"), default=0)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("sampling run")
        verbose_name_plural = _("sampling runs")
        ordering = ["-period_start"]
        constraints = [models.UniqueConstraint(fields=["plan", "period_start"], name="one_run_per_plan_period")]

    def __str__(self) -> str:
        return f"{self.plan} {self.period_start:%Y-%m-%d}"


class ReviewTask(models.Model):
    """A conversation to review against a scorecard version, in someone's queue."""

    class State(models.TextChoices):
        PENDING = "pending", _("pending")
        IN_PROGRESS = "in_progress", _("in progress")
        SUBMITTED = "submitted", _("submitted")
        DISPUTED = "disputed", _("disputed")
        RESOLVED = "resolved", _("resolved")
        CLOSED = "closed", _("closed")
        SKIPPED = "skipped", _("skipped")

    class Reason(models.TextChoices):
        RANDOM = "random", _("random sample")
        RISK = "risk", _("risky")
        NEW_AGENT = "new_agent", _("new agent")
        MANUAL = "manual", _("added by hand")

    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="review_tasks", verbose_name=_("conversation")
    )
    version = models.ForeignKey(
        ScorecardVersion, on_delete=models.PROTECT, related_name="review_tasks", verbose_name=_("version")
    )
    run = models.ForeignKey(
        SamplingRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="tasks", verbose_name=_("run")
    )
    reason = models.CharField(_("reason"), max_length=10, choices=Reason.choices)
    risks = ArrayField(models.CharField(max_length=20), default=list, blank=True, verbose_name=_("risks"))
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="review_tasks",
        verbose_name=_("assignee"),
    )
    state = models.CharField(_("state"), max_length=12, choices=State.choices, default=State.PENDING)
    due_at = models.DateTimeField(_("due"), null=True, blank=True)
    skip_reason = models.CharField(_("skip reason"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("review task")
        verbose_name_plural = _("review tasks")
        ordering = ["due_at", "id"]
        constraints = [
            # A conversation is reviewed once per scorecard version, however many plans pick it.
            models.UniqueConstraint(fields=["conversation", "version"], name="one_review_task_per_version")
        ]
        indexes = [
            models.Index(fields=["assignee", "state", "due_at"], name="review_task_queue_idx"),
            models.Index(fields=["run"], name="review_task_run_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.conversation} → {self.assignee or '—'}"


class ReviewTaskEvent(models.Model):
    """The history of a task: every change of state or assignee, by whom, and why."""

    task = models.ForeignKey(ReviewTask, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    action = models.CharField(_("action"), max_length=20)
    from_state = models.CharField(max_length=12, blank=True)
    to_state = models.CharField(max_length=12, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)
    at = models.DateTimeField(_("at"), auto_now_add=True)

    class Meta:
        verbose_name = _("review task event")
        verbose_name_plural = _("review task events")
        ordering = ["task", "at", "id"]

    def __str__(self) -> str:
        return f"{self.action}: {self.from_state} → {self.to_state}"
