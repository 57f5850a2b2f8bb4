"""Homophone typo correction (错别字纠正) against the knowledge base's own words.

Customers type Chinese with pinyin input methods, so most typos are homophones of the intended word:
退宽 → 退款, 剥回 → 驳回, 鸡分 → 积分, 申情 → 申请. Both retrieval branches miss these (the characters
differ, and the embedder has rarely seen them), so the question is corrected before either runs.

Only what the segmenter could not make sense of is corrected: a word not in its dictionary, or a run of
uncommon single characters, whose toneless pinyin (with the usual accent merges z/zh, c/ch, s/sh, n/l, -n/-ng) spells
exactly one domain word — a word of the indexed questions or an editor's term. Real words are never
touched, so "开发" stays "开发" and only "发飘" after it could change.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache

import jieba

_CJK_WORD = re.compile(r"[\u4e00-\u9fff]{2,4}")
_CJK_RUN = re.compile(r"[\u4e00-\u9fff]+")
_TONE_MARKS = str.maketrans("āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜüńňǹḿ", "aaaaeeeeiiiioooouuuuvvvvvnnnm")
# A single character the segmenter left alone is a typo suspect only if it is not a common word by itself
# (会, 到, 不, 的 … are everywhere; 宽 in 退宽 or 冲 in 冲值 are not).
COMMON_CHARACTER_FREQUENCY = 15000


def _fuzzy(syllable: str) -> str:
    syllable = syllable.translate(_TONE_MARKS)
    for retroflex, flat in (("zh", "z"), ("ch", "c"), ("sh", "s")):
        if syllable.startswith(retroflex):
            syllable = flat + syllable[2:]
            break
    if syllable.startswith("l"):
        syllable = "n" + syllable[1:]
    if syllable.endswith(("ang", "eng", "ing", "ong")) and syllable != "ong":
        syllable = syllable[:-1]
    return syllable


@cache
def _pinyin_dict() -> dict[int, str]:
    # pypinyin's tables take a quarter of a second to import: only processes that correct typos pay it,
    # not every worker, command and import writer that sets Django up.
    from pypinyin.constants import PINYIN_DICT

    return PINYIN_DICT


def _char_reading(char: str) -> str | None:
    # The primary reading only: an input method offers a character for its usual pronunciation, and the
    # rare readings of polyphonic characters (信 shēn, 不 fū) would make false matches.
    readings = _pinyin_dict().get(ord(char))
    return _fuzzy(readings.split(",")[0]) if readings else None


def _word_key(word: str) -> str:
    from pypinyin import Style, lazy_pinyin

    return " ".join(_fuzzy(s) for s in lazy_pinyin(word, style=Style.TONE))


class PhoneticCorrector:
    def __init__(self, domain_words: Iterable[str]) -> None:
        self.words: set[str] = {w for w in domain_words if _CJK_WORD.fullmatch(w)}
        by_key: dict[str, set[str]] = {}
        for word in self.words:
            by_key.setdefault(_word_key(word), set()).add(word)
        # A pronunciation shared by two domain words is ambiguous: guessing would be a coin toss.
        self._by_key = {key: next(iter(words)) for key, words in by_key.items() if len(words) == 1}
        self._max_len = max((len(w) for w in self.words), default=0)

    def __bool__(self) -> bool:
        return bool(self._by_key)

    def _suspect(self, segment: str, frequencies: dict[str, int]) -> bool:
        if not _CJK_RUN.fullmatch(segment) or segment in self.words:
            return False
        if len(segment) == 1:
            return frequencies.get(segment, 0) < COMMON_CHARACTER_FREQUENCY
        return not frequencies.get(segment)  # not in the dictionary at all: the segmenter guessed it

    def _match(self, window: str, frequencies: dict[str, int]) -> str | None:
        readings = [_char_reading(c) for c in window]
        if not all(readings):
            return None
        word = self._by_key.get(" ".join(readings))  # type: ignore[arg-type]
        if word is None or word == window:
            return None
        # Only uncommon characters are taken for typos: 会 → 回 or 钱 → 前 would rewrite real words.
        changed = [a for a, b in zip(window, word, strict=True) if a != b]
        if any(frequencies.get(a, 0) >= COMMON_CHARACTER_FREQUENCY for a in changed):
            return None
        return word

    def correct(self, text: str, segments: list[str], frequencies: dict[str, int]) -> str:
        """``segments`` is the segmenter's split of ``text``; returns the text with typos replaced."""
        if not self._by_key:
            return text
        out: list[str] = []
        suspects: list[str] = []  # consecutive segments the segmenter could not make real words of
        for segment in [*segments, ""]:
            if segment and self._suspect(segment, frequencies):
                suspects.append(segment)
                continue
            out.extend(self._correct_run(suspects, frequencies))
            suspects = []
            out.append(segment)
        return "".join(out)

    def _correct_run(self, run: list[str], frequencies: dict[str, int]) -> list[str]:
        """Replace windows of whole segments (never part of one: 查下|物留 is 物留, not 下物)."""
        out, i = [], 0
        while i < len(run):
            for j in range(len(run), i, -1):
                window = "".join(run[i:j])
                if 2 <= len(window) <= self._max_len and (replacement := self._match(window, frequencies)):
                    out.append(replacement)
                    i = j
                    break
            else:
                out.append(run[i])
                i += 1
        return out


def dictionary_frequencies() -> dict[str, int]:
    """jieba's word frequencies (the default dictionary): what counts as a real word."""
    jieba.dt.check_initialized()
    return jieba.dt.FREQ
