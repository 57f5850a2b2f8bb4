"""Customer negative emotion and agent impoliteness in Chinese chat messages, for the QA audit (质检).

A lexicon scan, standard library only (it runs on every message, millions a day, and must not need
Django): the text is folded character by character (Traditional → Simplified, full-width → ASCII,
lower case), so every offset in the folded text is an offset in the original and a cue's span points
at what the person actually wrote. Terms are matched longest-first from left to right through a table
keyed by first character, built once at import from ``data/*.txt``.

Around each matched term:
- a negator just before it (不/没/别/不是…, with 很/太/是… allowed in between) cancels it: 不生气,
  没有不满, 我不是很生气;
- an intensifier just before it (太/非常/真/特别…) multiplies its weight by ``INTENSIFIER_FACTOR``
  and joins its span: 非常生气;
- weight 0 terms are guards: a longer neutral phrase that hides a shorter term (投诉进度 vs 投诉).

Repeated ！/？ adds a weak cue. A message counts only when its cue weights reach the threshold;
below it the detectors return [].
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

NEGATIVE_THRESHOLD = 1.0
IMPOLITE_THRESHOLD = 1.0
INTENSIFIER_FACTOR = 1.5

_DATA_DIR = Path(__file__).resolve().parent / "data"

# Longest first, so 不是 wins over 不 and the span is right.
_NEGATORS = (
    "并没有", "从来不", "从来没", "不是", "并不", "并非", "没有", "从没", "不要",
    "不会", "不用", "不必", "无需", "无须", "不", "没", "别", "未",
)  # fmt: skip
# 不得不 / 不能不 are affirmations: "我不得不投诉" is a complaint.
_DOUBLE_NEGATIVES = ("不得不", "不能不", "不会不", "没法不")
# Words that may sit between a negator and the term without breaking the negation: 不是很生气, 没有太在意.
_BETWEEN_NEGATOR_AND_TERM = (
    "那么", "这么", "怎么", "特别", "觉得", "感到", "有点", "有些", "一点", "真的", "很", "太", "是",
    "有", "在", "会", "算", "都", "也", "再", "真",
)  # fmt: skip
_INTENSIFIERS = (
    "越来越", "非常", "特别", "超级", "极其", "十分", "实在", "简直", "太过", "真的", "真是", "相当",
    "这么", "那么", "如此", "太", "真", "超", "好", "很", "巨", "贼", "极",
)  # fmt: skip
_LOOKBEHIND = 6  # characters before a term searched for a negator or an intensifier

# Customers shout with ！！ and ？？？; agents' exclamation marks are usually friendly (好的！！), so for
# them only repeated question marks (你说什么？？) count.
_CUSTOMER_PUNCTUATION = re.compile(r"[!?]{2,}")
_AGENT_PUNCTUATION = re.compile(r"\?{2,}|\?!+|!\?+")
_PUNCTUATION_WEIGHTS = (0.4, 0.6)  # two marks, three or more


@dataclass(frozen=True, slots=True)
class Cue:
    start: int  # character offset in the text
    end: int  # exclusive
    text: str  # text[start:end]
    weight: float


# --- folding ---------------------------------------------------------------------------------------

# Traditional (incl. Taiwan and Hong Kong variants and CJK compatibility forms) → Simplified, for the
# characters the lexicons, the negators and the intensifiers use; generated once with OpenCC (t2s, tw2s,
# hk2s over every CJK code point). tests/qa/test_sentiment.py checks that every lexicon term written in
# Traditional folds back to itself: a new term with a new character fails there, and the failure lists
# the pairs to append to both strings.
# BEGIN GENERATED FOLD
_TRADITIONAL = (
    "萬不與專業兩兩喪個箇為爲舉麼麽書書買亂亂了於產産什從們夥會傳傷體你便償像兒充全六關再寫決幾憑兇齣別彆製刻割辦務劣勁北北韆協單賣博臥厲雙發髮衹隻叫號嘰喫喫衕後嗎聽吸啞噠嘮嘖囉器迴場墨處復複覆復多夠頭誇姦"
    "媽實傢對導侷豈豈鉅師乾幹榦並併幷並廢度開開弄張強歸噹當当形徑逕律忍態怒噁惡惡惱悔悔驚憤憤懶懶懶成纔釦摺搶報報抱牴拉掛換擺襬料無時曉暴最望望朮術機權條來來闆極査樣檢次殘氣沒註流流流浪海海塗潰滾滿點爛爛煩"
    "愛貓率率王瑪翫現理電癡監盜直直眞眞真真著著着著瞧神離離俬種窮窩立筆簡類類类餬係繫緊纍累級經結給絕絶統維者者者恥聾聾衚鬍腦脫臉騰良薦菜虛行裝見見規視視視覺計認討讓講設評識識詐訴話該語誤說説說說諉誰謝譜負"
    "責賬貨貼費賊賠賴趕起路車車軟載較過還這進連連遲遲跡蹟遞鬱都釋量金錢銀銷錯長門問間悶鬧聞隨零雷黴須鬚領領題馬駁騙雞鷄"
)
_SIMPLIFIED = (
    "万不与专业两两丧个个为为举么么书书买乱乱了于产产什从们伙会传伤体你便偿像儿充全六关再写决几凭凶出别别制刻割办务劣劲北北千协单卖博卧厉双发发只只叫号叽吃吃同后吗听吸哑哒唠啧啰器回场墨处复复复复多够头夸奸"
    "妈实家对导局岂岂巨师干干干并并并并废度开开弄张强归当当当形径径律忍态怒恶恶恶恼悔悔惊愤愤懒懒懒成才扣折抢报报抱抵拉挂换摆摆料无时晓暴最望望术术机权条来来板极查样检次残气没注流流流浪海海涂溃滚满点烂烂烦"
    "爱猫率率王玛玩现理电痴监盗直直真真真真着着着着瞧神离离私种穷窝立笔简类类类糊系系紧累累级经结给绝绝统维者者者耻聋聋胡胡脑脱脸腾良荐菜虚行装见见规视视视觉计认讨让讲设评识识诈诉话该语误说说说说诿谁谢谱负"
    "责账货贴费贼赔赖赶起路车车软载较过还这进连连迟迟迹迹递郁都释量金钱银销错长门问间闷闹闻随零雷霉须须领领题马驳骗鸡鸡"
)
# END GENERATED FOLD


def _fold_table() -> dict[int, str]:
    table = {ord(t): s for t, s in zip(_TRADITIONAL, _SIMPLIFIED, strict=True)}
    table.update({code: chr(code - 0xFEE0).lower() for code in range(0xFF01, 0xFF5F)})  # full-width ASCII
    table.update({code: chr(code).lower() for code in range(ord("A"), ord("Z") + 1)})
    table[0x3000] = " "  # ideographic space
    # Every mapping is one character to one character: offsets in the folded text are offsets in the input.
    assert all(len(value) == 1 for value in table.values())
    return table


_FOLD = _fold_table()


def _fold(text: str) -> str:
    return text.translate(_FOLD)


# --- lexicons --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Lexicon:
    # Folded term → weight (0 for a guard), and every proper prefix of a term → None, so that a scan
    # extends a match one character at a time and stops at the first string no term starts with.
    table: dict[str, float | None]
    starts: re.Pattern[str]  # any first character: finds the next place worth looking up, in C


def _load_lexicon(path: Path) -> _Lexicon:
    weights: dict[str, float] = {}
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        term, sep, weight_text = line.partition("\t")
        term = _fold(term.strip())
        try:
            weight = float(weight_text.split("#", 1)[0])
        except ValueError:
            weight = -1.0
        if not sep or not term or weight < 0:
            raise ValueError(f"{path.name}:{number}: expected `term<TAB>weight` with weight ≥ 0, got {raw!r}")
        if term in weights:
            raise ValueError(f"{path.name}:{number}: {term!r} is listed twice (after folding to Simplified)")
        weights[term] = weight
    table: dict[str, float | None] = {term[:size]: None for term in weights for size in range(1, len(term))}
    table.update(weights)
    starts = re.compile("[" + "".join(sorted({re.escape(term[0]) for term in weights})) + "]")
    return _Lexicon(table=table, starts=starts)


_NOT_A_PREFIX = -1.0  # the lookup default, compared by identity: no table value is this object
_NEGATIVE_EMOTION = _load_lexicon(_DATA_DIR / "negative_emotion.txt")
_IMPOLITE = _load_lexicon(_DATA_DIR / "impolite.txt")


# --- matching --------------------------------------------------------------------------------------


def _clause_before(folded: str, start: int, floor: int) -> str:
    """Up to ``_LOOKBEHIND`` characters before ``start``, in the same clause (stops at punctuation or
    space) and after ``floor``, the end of the previous cue: what a cue has used cannot also modify the
    next one (不要再 + 敷衍 is a demand to stop, not a negation)."""
    window = folded[max(floor, start - _LOOKBEHIND) : start]
    for index in range(len(window) - 1, -1, -1):
        if not window[index].isalnum():
            return window[index + 1 :]
    return window


def _negated(before: str) -> bool:
    if before.endswith(_DOUBLE_NEGATIVES):
        return False
    # Peel words allowed between negator and term (不是很生气 → 不是) until none is left to peel.
    while before.endswith(_NEGATORS) or before.endswith(_BETWEEN_NEGATOR_AND_TERM):
        # An A-not-A question (是不是, 有没有, 会不会) asks, it does not deny: 你是不是没认真看.
        if len(before) >= 3 and before[-2] in "不没" and before[-1] == before[-3]:
            return False
        if before.endswith(_NEGATORS):
            return True
        for word in _BETWEEN_NEGATOR_AND_TERM:
            if before.endswith(word):
                before = before[: -len(word)]
                break
        else:
            return False
    return False


def _intensifier_length(before: str) -> int:
    if not before.endswith(_INTENSIFIERS):  # the usual case, in one call
        return 0
    for word in _INTENSIFIERS:
        if before.endswith(word):
            return len(word)
    return 0


def _scan(text: str, lexicon: _Lexicon, punctuation: re.Pattern[str], threshold: float) -> list[Cue]:
    folded = _fold(text)
    lookup, next_start, size = lexicon.table.get, lexicon.starts.search, len(folded)
    cues: list[Cue] = []
    total = 0.0
    position, last_end = 0, 0
    while found := next_start(folded, position):
        position = found.start()
        # Longest match: extend while the text so far is a term or the start of one.
        end, weight, reach = 0, 0.0, position + 1
        value = lookup(folded[position], _NOT_A_PREFIX)
        while value is not _NOT_A_PREFIX:
            if value is not None:
                end, weight = reach, value
            reach += 1
            if reach > size:
                break
            value = lookup(folded[position:reach], _NOT_A_PREFIX)
        if not end:
            position += 1
            continue
        if weight:
            before = _clause_before(folded, position, last_end)
            if not _negated(before):
                start = position - _intensifier_length(before)
                if start < position:
                    weight *= INTENSIFIER_FACTOR
                cues.append(Cue(start, end, text[start:end], weight))
                total += weight
            last_end = end
        position = end
    for match in punctuation.finditer(folded):
        weight = _PUNCTUATION_WEIGHTS[min(len(match.group()), 3) - 2]
        cues.append(Cue(match.start(), match.end(), text[match.start() : match.end()], weight))
        total += weight
    if total < threshold - 1e-9:  # 0.6 + 0.4 reaches 1.0 whatever the float rounding
        return []
    return sorted(cues, key=lambda cue: cue.start)


def negative_emotion(text: str) -> list[Cue]:
    """Cues of a customer's negative emotion (anger, frustration, threats to complain, sarcasm markers);
    [] when the message is not negative."""
    return _scan(text, _NEGATIVE_EMOTION, _CUSTOMER_PUNCTUATION, NEGATIVE_THRESHOLD)


def impolite(text: str) -> list[Cue]:
    """Cues of an agent's impoliteness (rude, dismissive, blaming, impatient phrasing); [] when polite."""
    return _scan(text, _IMPOLITE, _AGENT_PUNCTUATION, IMPOLITE_THRESHOLD)
