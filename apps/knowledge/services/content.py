"""What a version says, as plain data: validated, normalised and hashed before anything is written."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass, field
from datetime import datetime

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from apps.core.versions import version_key
from apps.knowledge.models import ArticleVersion, Channel, Language, ScriptScenario, ScriptVersion
from apps.knowledge.placeholders import check_placeholders

CHANNELS = set(Channel.values)
MAX_VERSION_LENGTH = 40  # the columns' length

# Characters nobody types and a spreadsheet cell cannot hold (the XLSX export would fail on them): C0 control
# characters other than tab and line breaks. They come pasted from other programs or from hostile input.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def control_character_errors(texts: dict[str, str | list[str]]) -> dict[str, list[str]]:
    """For each field (a text or a list of texts) holding a control character, an error naming it."""
    errors: dict[str, list[str]] = {}
    for name, value in texts.items():
        for text in [value] if isinstance(value, str) else value:
            found = _CONTROL.search(text)
            if found:
                errors[name] = [
                    _("Remove the invisible control character U+%(code)04X (pasted from another program?).")
                    % {"code": ord(found.group())}
                ]
                break
    return errors


def _clean_lines(values: list[str]) -> list[str]:
    """Strip, drop empties and duplicates, keep order."""
    seen: dict[str, None] = {}
    for value in values:
        text = " ".join(str(value).split())
        if text:
            seen.setdefault(text, None)
    return list(seen)


@dataclass
class Applicability:
    tags: list[str] = field(default_factory=list)
    min_product_version: str = ""
    max_product_version: str = ""
    valid_from: datetime | None = None
    valid_until: datetime | None = None

    def errors(self) -> dict[str, list[str]]:
        errors: dict[str, list[str]] = {}
        keys = {}
        for name in ("min_product_version", "max_product_version"):
            value = getattr(self, name)
            if len(value) > MAX_VERSION_LENGTH:
                errors[name] = [_("A version number is at most %(n)s characters.") % {"n": MAX_VERSION_LENGTH}]
            elif value:
                try:
                    keys[name] = version_key(value)
                except ValidationError as exc:
                    errors[name] = list(exc.messages)
        if len(keys) == 2 and keys["min_product_version"] > keys["max_product_version"]:
            errors["max_product_version"] = [_("The last applicable version is before the first one.")]
        if self.valid_from and self.valid_until and self.valid_from >= self.valid_until:
            errors["valid_until"] = [_("The validity window ends before it starts.")]
        if any(len(tag) > 40 for tag in self.tags):
            errors["tags"] = [_("Tags are at most 40 characters.")]
        return errors

    def content_hash(self) -> str:
        """Same content, same hash: how re-imports and unchanged saves are recognised."""
        data = asdict(self)
        return hashlib.sha256(json.dumps(data, sort_keys=True, default=str, ensure_ascii=False).encode()).hexdigest()

    def min_key(self) -> list[int] | None:
        return version_key(self.min_product_version) if self.min_product_version else None

    def max_key(self) -> list[int] | None:
        return version_key(self.max_product_version) if self.max_product_version else None


@dataclass
class ArticleContent(Applicability):
    standard_question: str = ""
    similar_questions: list[str] = field(default_factory=list)
    answer: str = ""
    channel_answers: dict[str, str] = field(default_factory=dict)
    language: str = Language.ZH_HANS
    feature_slugs: list[str] = field(default_factory=list)

    def normalise(self) -> ArticleContent:
        self.standard_question = " ".join(self.standard_question.split())
        self.similar_questions = [q for q in _clean_lines(self.similar_questions) if q != self.standard_question]
        self.answer = self.answer.strip()
        self.channel_answers = {k: v.strip() for k, v in sorted(self.channel_answers.items()) if v and v.strip()}
        self.tags = _clean_lines(self.tags)
        self.feature_slugs = sorted(set(self.feature_slugs))
        self.min_product_version = (self.min_product_version or "").strip()
        self.max_product_version = (self.max_product_version or "").strip()
        return self

    def errors(self) -> dict[str, list[str]]:
        errors = super().errors()
        if not self.standard_question:
            errors["standard_question"] = [_("The standard question is required.")]
        elif len(self.standard_question) > 300:
            errors["standard_question"] = [_("The standard question is at most 300 characters.")]
        long_similar = [q for q in self.similar_questions if len(q) > 300]
        if long_similar:
            errors["similar_questions"] = [
                _("Similar questions are at most 300 characters: “%(q)s…”") % {"q": long_similar[0][:30]}
            ]
        if not self.answer:
            errors["answer"] = [_("The answer is required.")]
        unknown = sorted(set(self.channel_answers) - CHANNELS)
        if unknown:
            errors["channel_answers"] = [
                _("Unknown channel(s): %(unknown)s. Known channels: %(known)s.")
                % {"unknown": ", ".join(unknown), "known": ", ".join(Channel.values)}
            ]
        if self.language not in Language.values:
            errors["language"] = [_("Unknown language “%(lang)s”.") % {"lang": self.language}]
        texts = {
            "standard_question": self.standard_question,
            "similar_questions": self.similar_questions,
            "answer": self.answer,
            **{f"answer_{channel}": text for channel, text in self.channel_answers.items()},
            "tags": self.tags,
        }
        return {**control_character_errors(texts), **errors}

    @classmethod
    def of_version(cls, version: ArticleVersion) -> ArticleContent:
        return cls(
            standard_question=version.standard_question,
            similar_questions=[q.text for q in version.similar_questions.all()],
            answer=version.answer,
            channel_answers={c.channel: c.answer for c in version.channel_answers.all()},
            language=version.language,
            feature_slugs=sorted(f.slug for f in version.features.all()),
            tags=list(version.tags),
            min_product_version=version.min_product_version,
            max_product_version=version.max_product_version,
            valid_from=version.valid_from,
            valid_until=version.valid_until,
        )


@dataclass
class ScriptContent(Applicability):
    title: str = ""
    text: str = ""
    channels: list[str] = field(default_factory=list)
    feature_slugs: list[str] = field(default_factory=list)

    def normalise(self) -> ScriptContent:
        self.title = " ".join(self.title.split())
        self.text = self.text.strip()
        self.channels = sorted(set(self.channels))
        self.tags = _clean_lines(self.tags)
        self.feature_slugs = sorted(set(self.feature_slugs))
        self.min_product_version = (self.min_product_version or "").strip()
        self.max_product_version = (self.max_product_version or "").strip()
        return self

    def errors_for(self, scenario: ScriptScenario) -> dict[str, list[str]]:
        errors = super().errors()
        if not self.title:
            errors["title"] = [_("The title is required.")]
        if not self.text:
            errors["text"] = [_("The script text is required.")]
        problems = check_placeholders(self.text, scenario.placeholders)
        if problems:
            errors["text"] = [str(problem) for problem in problems]
        unknown = sorted(set(self.channels) - CHANNELS)
        if unknown:
            errors["channels"] = [_("Unknown channel(s): %(unknown)s.") % {"unknown": ", ".join(unknown)}]
        return {**control_character_errors({"title": self.title, "text": self.text, "tags": self.tags}), **errors}

    @classmethod
    def of_version(cls, version: ScriptVersion) -> ScriptContent:
        return cls(
            title=version.title,
            text=version.text,
            channels=list(version.channels),
            feature_slugs=sorted(f.slug for f in version.features.all()),
            tags=list(version.tags),
            min_product_version=version.min_product_version,
            max_product_version=version.max_product_version,
            valid_from=version.valid_from,
            valid_until=version.valid_until,
        )
