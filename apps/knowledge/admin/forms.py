"""Editor forms: one page holds a whole version (questions, answers per channel, applicability)."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _
from unfold.widgets import (
    UnfoldAdminCheckboxSelectMultipleWidget,
    UnfoldAdminFileFieldWidget,
    UnfoldAdminRadioSelectWidget,
)

from apps.catalog.models import Feature
from apps.core.forms import ThemedForm, theme_widget
from apps.knowledge.formats import file_too_large_message
from apps.knowledge.models import Channel, Language
from apps.knowledge.services.content import Applicability, ArticleContent, ScriptContent

_WIDE = {"class": "vLargeTextField", "rows": 4}


class FeatureChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Feature) -> str:
        return obj.name  # the form is for one product already


class _VersionForm(ThemedForm):
    base_version = forms.IntegerField(widget=forms.HiddenInput)
    features = FeatureChoiceField(
        Feature.objects.none(), required=False, widget=UnfoldAdminCheckboxSelectMultipleWidget, label=_("Features")
    )
    tags = forms.CharField(
        required=False,
        label=_("Tags"),
        help_text=_("Separate with commas."),
        widget=forms.TextInput(attrs={"class": "vTextField"}),
    )
    min_product_version = forms.CharField(required=False, max_length=40, label=_("From product version"))
    max_product_version = forms.CharField(
        required=False,
        max_length=40,
        label=_("Up to product version"),
        help_text=_("Leave empty if it applies to all later versions."),
    )
    valid_from = forms.DateTimeField(
        required=False, label=_("Valid from"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    valid_until = forms.DateTimeField(
        required=False, label=_("Valid until"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    change_note = forms.CharField(
        required=False, max_length=200, label=_("Change note"), widget=forms.TextInput(attrs={"class": "vTextField"})
    )
    submit_for_review = forms.BooleanField(required=False, initial=False, label=_("Submit for review after saving"))

    def __init__(self, *args, product, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["features"].queryset = Feature.objects.filter(product=product).order_by("name")

    def _applicability(self) -> dict:
        data = self.cleaned_data
        return {
            "tags": [t.strip() for t in data.get("tags", "").replace("，", ",").split(",") if t.strip()],
            "feature_slugs": [f.slug for f in data.get("features") or []],
            "min_product_version": data.get("min_product_version", ""),
            "max_product_version": data.get("max_product_version", ""),
            "valid_from": data.get("valid_from"),
            "valid_until": data.get("valid_until"),
        }

    @staticmethod
    def initial_from(content: Applicability, base_number: int, features) -> dict:
        return {
            "base_version": base_number,
            "features": features,
            "tags": ", ".join(content.tags),
            "min_product_version": content.min_product_version,
            "max_product_version": content.max_product_version,
            "valid_from": content.valid_from,
            "valid_until": content.valid_until,
        }


class ArticleVersionForm(_VersionForm):
    standard_question = forms.CharField(
        max_length=300, label=_("Standard question"), widget=forms.TextInput(attrs={"class": "vLargeTextField"})
    )
    similar_questions = forms.CharField(
        required=False,
        label=_("Similar questions"),
        widget=forms.Textarea(attrs={**_WIDE, "rows": 8}),
        help_text=_("One per line: the ways customers actually ask. Paste a column from Excel."),
    )
    answer = forms.CharField(label=_("Answer (Markdown)"), widget=forms.Textarea(attrs={**_WIDE, "rows": 8}))
    language = forms.ChoiceField(choices=Language.choices, initial=Language.ZH_HANS, label=_("Language"))

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for value, label in Channel.choices:
            self.fields[f"answer_{value}"] = forms.CharField(
                required=False,
                label=label,
                widget=forms.Textarea(attrs=_WIDE),
                help_text=_("Empty: this channel shows the default answer."),
            )
            theme_widget(self.fields[f"answer_{value}"].widget)

    def content(self) -> ArticleContent:
        data = self.cleaned_data
        return ArticleContent(
            standard_question=data["standard_question"],
            similar_questions=data.get("similar_questions", "").splitlines(),
            answer=data["answer"],
            channel_answers={c: data.get(f"answer_{c}", "") for c in Channel.values},
            language=data["language"],
            **self._applicability(),
        )

    @classmethod
    def initial_for(cls, content: ArticleContent, base_number: int, features) -> dict:
        initial = cls.initial_from(content, base_number, features)
        initial.update(
            standard_question=content.standard_question,
            similar_questions="\n".join(content.similar_questions),
            answer=content.answer,
            language=content.language,
            **{f"answer_{c}": text for c, text in content.channel_answers.items()},
        )
        return initial

    def fieldsets(self) -> list[tuple[str | None, dict]]:
        return [
            (None, {"fields": ["base_version", "standard_question", "similar_questions", "answer", "language"]}),
            (_("Answers per channel"), {"fields": [f"answer_{c}" for c in Channel.values], "classes": ["collapse"]}),
            (
                _("Applies to"),
                {
                    "fields": [
                        "features",
                        "tags",
                        "min_product_version",
                        "max_product_version",
                        "valid_from",
                        "valid_until",
                    ]
                },
            ),
            (_("Save"), {"fields": ["change_note", "submit_for_review"]}),
        ]


class ScriptVersionForm(_VersionForm):
    title = forms.CharField(max_length=200, label=_("Title"), widget=forms.TextInput(attrs={"class": "vTextField"}))
    text = forms.CharField(label=_("Script text"), widget=forms.Textarea(attrs=_WIDE))
    channels = forms.MultipleChoiceField(
        choices=Channel.choices,
        required=False,
        widget=UnfoldAdminCheckboxSelectMultipleWidget,
        label=_("Channels"),
        help_text=_("None selected: every channel."),
    )

    def __init__(self, *args, placeholders: list[str], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        names = ", ".join("{" + p + "}" for p in placeholders) or _("none")
        self.fields["text"].help_text = _("Placeholders this scenario allows: %(names)s") % {"names": names}

    def content(self) -> ScriptContent:
        data = self.cleaned_data
        return ScriptContent(
            title=data["title"], text=data["text"], channels=data.get("channels") or [], **self._applicability()
        )

    @classmethod
    def initial_for(cls, content: ScriptContent, base_number: int, features) -> dict:
        initial = cls.initial_from(content, base_number, features)
        initial.update(title=content.title, text=content.text, channels=content.channels)
        return initial

    def fieldsets(self) -> list[tuple[str | None, dict]]:
        return [
            (None, {"fields": ["base_version", "title", "text", "channels"]}),
            (
                _("Applies to"),
                {
                    "fields": [
                        "features",
                        "tags",
                        "min_product_version",
                        "max_product_version",
                        "valid_from",
                        "valid_until",
                    ]
                },
            ),
            (_("Save"), {"fields": ["change_note", "submit_for_review"]}),
        ]


class ImportForm(ThemedForm):
    """Asked before the upload: publish the imported articles, or create drafts for review. Drafts are the
    only choice, and the default, for someone who may not publish."""

    PUBLISH, DRAFT = "publish", "draft"

    outcome = forms.ChoiceField(
        label=_("The imported articles"),
        widget=UnfoldAdminRadioSelectWidget,
        required=False,  # no answer: the person's default below
    )
    file = forms.FileField(
        label=_("File"),
        help_text=_(".xlsx, .csv or .jsonl; see the column list below."),
        widget=UnfoldAdminFileFieldWidget,  # the theme's script expects its own widget around a file input
    )
    skip_invalid = forms.BooleanField(required=False, label=_("Import the valid rows even if some rows are invalid"))
    strict = forms.BooleanField(required=False, label=_("Reject unknown products, categories and features"))

    def __init__(self, *args, may_publish: bool, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.may_publish = may_publish
        choices = [(self.DRAFT, _("Create drafts to review and publish later"))]
        if may_publish:
            choices.insert(0, (self.PUBLISH, _("Publish them now (bots answer with them at once)")))
        self.fields["outcome"].choices = choices
        self.fields["outcome"].initial = self.PUBLISH if may_publish else self.DRAFT

    def clean_outcome(self) -> str:
        return self.cleaned_data.get("outcome") or self.fields["outcome"].initial

    def clean_file(self):
        # Refused by its size before anything reads it into memory.
        upload = self.cleaned_data["file"]
        if upload.size > settings.KNOWLEDGE_IMPORT_MAX_BYTES:
            raise forms.ValidationError(file_too_large_message(), code="too_large")
        return upload

    @property
    def publish(self) -> bool:
        return self.cleaned_data["outcome"] == self.PUBLISH


class ReviewForm(ThemedForm):
    comment = forms.CharField(
        required=False, max_length=500, label=_("Comment"), widget=forms.TextInput(attrs={"class": "vTextField"})
    )
