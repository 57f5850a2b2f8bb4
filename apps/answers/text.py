"""Chinese text for retrieval: normalise, apply synonyms, segment.

The same functions prepare indexed questions and incoming questions, so both sides always agree.
"""

from __future__ import annotations

import logging
import re
import threading
import unicodedata
from dataclasses import dataclass, field

import jieba

from apps.answers.phonetic import PhoneticCorrector
from apps.core.chinese import to_simplified

jieba.setLogLevel(logging.WARNING)

# OpenCC keeps 帐 where mainland usage is 账 (账号, 到账): fold the service vocabulary.
_VARIANTS = {
    "帐号": "账号",
    "帐户": "账户",
    "到帐": "到账",
    "帐单": "账单",
    "对帐": "对账",
    "入帐": "入账",
    "转帐": "转账",
    "记帐": "记账",
    "帐务": "账务",
}
_VARIANT_RE = re.compile("|".join(map(re.escape, _VARIANTS)))
_CJK = re.compile(r"[\u3400-\u9fff]+")
_ASCII_WORD = re.compile(r"[a-z0-9]+(?:[.\-][a-z0-9]+)*")
# Words that carry no topic: dropping them keeps "怎么办" from matching every "怎么" question.
STOPWORDS = frozenset(
    "的 了 吗 呢 啊 呀 吧 哦 哈 嘛 么 是 我 你 他 她 它 我们 你们 请问 请 一下 这个 那个 这 那 就 都 也 还 "
    "在 和 与 及 或 有 没 没有 能 会 可以 可 要 想 怎么 怎样 如何 什么 为什么 咋 多少 几 吗? 亲 您 好 您好 谢谢 "
    "一个 一 个 下 上 得 地 着 过 被 把 给 让 啦 哟 嗯 呃 诶 哎 怎么样 怎么办 咋办 为啥 啥 如何是好 到底 现在".split()
)


def normalize_for_retrieval(text: str) -> str:
    """A question as retrieval compares it: Traditional → Simplified, full-width → half-width (NFKC), lower
    case, 帐 → 账, punctuation → space, runs of spaces → one. Its length is not the text's (compare
    :func:`apps.qa.rules.text.fold_keeping_spans`, which keeps every character's position)."""
    text = unicodedata.normalize("NFKC", text or "")
    text = to_simplified(text).lower()
    text = _VARIANT_RE.sub(lambda m: _VARIANTS[m.group(0)], text)
    cleaned = "".join(" " if unicodedata.category(ch)[0] in "PSZC" else ch for ch in text)
    return " ".join(cleaned.split())


def _fresh_tokenizer() -> jieba.Tokenizer:
    """A tokenizer of its own (editors' terms are added to it) without re-reading jieba's dictionary:
    a copy of the loaded default's word frequencies takes milliseconds, a fresh load half a second."""
    default = jieba.dt
    default.check_initialized()  # loads once per process, under jieba's own lock
    tokenizer = jieba.Tokenizer()
    tokenizer.FREQ, tokenizer.total = dict(default.FREQ), default.total
    tokenizer.initialized = True
    return tokenizer


@dataclass
class Vocabulary:
    """Editor-managed terms and synonyms, compiled for fast use. Rebuilt when editors change them."""

    synonyms: dict[str, str] = field(default_factory=dict)  # variant → canonical, all normalised
    terms: set[str] = field(default_factory=set)
    domain_words: set[str] = field(default_factory=set)  # words of the index: targets of typo correction
    _pattern: re.Pattern | None = None
    _tokenizer: jieba.Tokenizer | None = None
    _corrector: PhoneticCorrector | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        # Canonical terms map to themselves and longer terms are tried first, so "优惠券" is never
        # rewritten through a shorter variant inside it.
        self.synonyms = {**{c: c for c in self.synonyms.values()}, **self.synonyms}
        variants = sorted(self.synonyms, key=len, reverse=True)
        self._pattern = re.compile("|".join(map(re.escape, variants))) if variants else None
        self._tokenizer = _fresh_tokenizer()
        for term in self.terms | set(self.synonyms.values()):
            if term:
                self._tokenizer.add_word(term, freq=20000)
        self._corrector = PhoneticCorrector(self.domain_words | self.terms | set(self.synonyms.values()))

    def question(self, normalized: str) -> str:
        """A customer's normalised question, ready for both branches: synonyms folded, typos corrected."""
        canonical = self.canonical(normalized)
        if not self._corrector:
            return canonical
        with self._lock:
            segments = self._tokenizer.lcut(canonical)
        corrected = self._corrector.correct(canonical, segments, self._tokenizer.FREQ)
        return canonical if corrected == canonical else self.canonical(corrected)

    def canonical(self, normalized: str) -> str:
        if self._pattern is None:
            return normalized
        return self._pattern.sub(lambda m: self.synonyms[m.group(0)], normalized)

    def words(self, normalized: str) -> list[str]:
        with self._lock:  # jieba's tokenizer is not thread-safe while it loads
            return [w for w in self._tokenizer.lcut(normalized) if w.strip()]

    def tokens(self, text: str) -> list[str]:
        """Lexical tokens: content words, plus character bigrams inside each run of content words
        (robust to typos and to the segmenter splitting a phrase differently on each side)."""
        return self.analyse(text)[1]

    def analyse(self, text: str) -> tuple[list[str], list[str]]:
        """(content words, lexical tokens) of a text: the words alone tell which concepts a question names."""
        canonical = self.canonical(normalize_for_retrieval(text))
        words: dict[str, None] = {}
        tokens: dict[str, None] = {}
        runs: list[str] = [""]
        for word in self.words(canonical):
            if word in STOPWORDS or not (_CJK.fullmatch(word) or _ASCII_WORD.fullmatch(word)):
                runs.append("")
                continue
            words.setdefault(word, None)
            tokens.setdefault(word, None)
            if _CJK.fullmatch(word):
                runs[-1] += word
            else:
                runs.append("")
        for run in runs:
            for i in range(len(run) - 1):
                tokens.setdefault(run[i : i + 2], None)
        return list(words), list(tokens)
