"""Demo conversations: realistic Simplified Chinese customer-service transcripts, generated fast, and
stored through the product's ingestion service (``load_demo_conversations``).

``generate_conversations`` yields payloads in the shape ``POST /api/v1/conversations/`` accepts. The
mix is what QA and reporting need to find something: bot answers taken from demo/articles.jsonl,
handoffs (转人工), bot failure streaks, slow agent replies that breach SLA tiers, complaints, the odd
impolite agent, personal data (PII) typed into the chat, and customers who come back within 48 h.

It is a generator over one ``random.Random(seed)``: the same seed gives the same conversations, and
memory stays flat however many are asked for (only returns due later are held, a few dozen at most).
Benchmarks ask for 100,000 conversations, so every phrase is precomputed and each message costs a
few random draws, one dict and one timestamp string.

What people say is data (``apps.demo.phrases``: demo/conversation_phrases.json and
demo/conversation_scripts.json); how often each thing happens is here.
"""

from __future__ import annotations

import heapq
import itertools
import json
import random
import re
import time
from bisect import bisect
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import cache
from itertools import accumulate

import opencc

from apps.catalog.models import Product
from apps.conversations.services.ingest import MAX_BATCH, conversations_ingest
from apps.demo.files import DEMO_DIR
from apps.demo.phrases import demo_phrases, demo_scripts

PHRASES = demo_phrases()
SCRIPTS = demo_scripts()

CHINA = timezone(timedelta(hours=8))
# Fixed so that the demo and the benchmarks are reproducible.
DEFAULT_START = datetime(2026, 11, 20, tzinfo=CHINA)

CHANNEL_WEIGHTS = {"wechat": 45, "app": 25, "web": 15, "wecom": 10, "phone": 5}
HUMAN_ONLY_CHANNELS = frozenset({"wecom", "phone"})  # 企业微信 advisers and the hotline: no bot
PRODUCT_WEIGHTS = {"mall-app": 62, "wallet-app": 38}
# Customer-service traffic by hour of day (Beijing time): morning, afternoon and evening peaks.
HOUR_WEIGHTS = (3, 2, 1, 1, 1, 1, 2, 5, 10, 16, 20, 20, 14, 16, 18, 18, 17, 15, 13, 16, 20, 20, 15, 8)
# How often customers ask about each feature (1.0 when not listed).
FEATURE_WEIGHTS = {
    "refund": 3.0,
    "after-sales": 3.0,
    "logistics": 3.0,
    "order": 1.5,
    "payment": 1.5,
    "coupon": 2.0,
    "membership": 1.0,
    "price-protection": 1.5,
    "invoice": 1.0,
    "account": 0.8,
    "top-up": 2.0,
    "withdrawal": 3.0,
    "bank-card": 2.0,
    "security": 1.5,
    "bill": 1.0,
    "red-packet": 1.5,
    "real-name": 1.5,
}

# Shares, tuned so that measured shares land where the brief asks (see the tests).
HANDOFF_SHARE = 0.36  # of bot-started conversations without a complaint
COMPLAINT_HANDOFF_SHARE = 0.8
STREAK_SHARE = 0.3  # of handoffs: the bot failed 3+ times in a row first
GIVE_UP_SHARE = 0.05  # of bot-only conversations: failures, then the customer leaves
COMPLAINT_SHARE = 0.09
REPEAT_COMPLAINT_SHARE = 0.25  # customers who come back are angrier
SLOW_SHARE = 0.08  # of conversations an agent served: at least one reply takes 3–15 min
IMPOLITE_SHARE = 0.04  # of conversations an agent served (about 2 % of all)
PII_SHARE = 0.05
RETURN_SHARE = 0.055  # of fresh conversations: about 15 % of customers come back within 48 h
CSAT_SHARE = 0.6
VIP_EVERY = 23  # every 23rd customer is served by VIP 专席

TEAM_AGENTS: dict[str, tuple[str, range]] = {
    # team: (how agents introduce themselves, agent numbers)
    "售后一组": ("售后客服", range(1, 9)),
    "售后二组": ("售后客服", range(9, 17)),
    "钱包客服组": ("钱包客服", range(17, 25)),
    "电话客服组": ("", range(25, 29)),
    "VIP 专席": ("VIP 专属客服", range(29, 31)),
}


MOBILE_PREFIXES = ("138", "139", "136", "135", "137", "150", "151", "158", "159", "186", "187", "188", "177", "199")
AREA_CODES = ("110101", "110105", "310104", "310115", "440305", "440106", "330106", "320102", "510107", "420102")
CARD_BINS = ("622202", "621700", "622848", "621483", "622588", "621226", "622700", "625965")
MAIL_DOMAINS = ("qq.com", "163.com", "126.com", "gmail.com", "foxmail.com", "sina.com")
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK_CHARS = "10X98765432"


def id_check_char(first17: str) -> str:
    """The GB 11643-1999 check character of an 18-digit resident ID number."""
    return ID_CHECK_CHARS[sum(int(d) * w for d, w in zip(first17, ID_WEIGHTS, strict=True)) % 11]


def luhn_check_digit(payload: str) -> str:
    """The digit that makes ``payload + digit`` pass the Luhn check, as bank card numbers do."""
    total = 0
    for i, ch in enumerate(reversed(payload)):
        d = int(ch)
        if i % 2 == 0:  # doubled: these sit at odd positions from the right once the check digit is appended
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return str(-total % 10)


def _mobile(rng: random.Random) -> str:
    return rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}"


def _id_number(rng: random.Random) -> str:
    birth = datetime(1965, 1, 1) + timedelta(days=rng.randrange(40 * 365))
    first17 = f"{rng.choice(AREA_CODES)}{birth:%Y%m%d}{rng.randrange(1000):03d}"
    return first17 + id_check_char(first17)


def _bank_card(rng: random.Random) -> str:
    length = 19 if rng.random() < 0.6 else 16
    payload = rng.choice(CARD_BINS) + "".join(str(rng.randrange(10)) for _ in range(length - 7))
    number = payload + luhn_check_digit(payload)
    if rng.random() < 0.25:  # people often type it in groups of four
        number = " ".join(number[i : i + 4] for i in range(0, len(number), 4))
    return number


def _email(rng: random.Random) -> str:
    name = rng.choice(PHRASES.email_names)
    return f"{name}{rng.randrange(10, 99999)}@{rng.choice(MAIL_DOMAINS)}"


_PERSONAL_DATA_MAKERS: dict[str, Callable[[random.Random], str]] = {
    "mobile": _mobile,
    "id_number": _id_number,
    "bank_card": _bank_card,
    "email": _email,
}
# What a customer types, and the templates it goes into: the phrases' ``personal_data``, in their order.
PII_TEMPLATES: tuple[tuple[Callable[[random.Random], str], tuple[str, ...]], ...] = tuple(
    (_PERSONAL_DATA_MAKERS[entry["kind"]], entry["templates"]) for entry in PHRASES.personal_data
)


def _pii_message(rng: random.Random) -> str:
    make, templates = rng.choice(PII_TEMPLATES)
    return rng.choice(templates).format(make(rng))


# --- knowledge from the demo articles ------------------------------------------------------------

_LIST_MARKER = re.compile(r"^(?:\d+\.|[-*])\s*")


@dataclass(frozen=True)
class _Topic:
    product: str
    feature: str
    standard_question: str
    questions: tuple[str, ...]
    tags: tuple[str, ...]
    bot_answers: dict[str, str]  # channel → what the bot replies there
    human_only: bool  # 人工专属: bots must never answer
    details: tuple[str, ...]  # what customers add, and what agents find, for this question
    findings: tuple[str, ...]


@dataclass(frozen=True)
class _Catalogue:
    topics: tuple[_Topic, ...]
    cum_weights: tuple[float, ...]

    def pick(self, rng: random.Random) -> _Topic:
        return self.topics[bisect(self.cum_weights, rng.random() * self.cum_weights[-1])]


def shorten_answer(markdown: str, limit: int = 110) -> str:
    """A knowledge-base answer as a chat bot would send it: plain text, the first sentences only."""
    text = ""
    for raw in markdown.replace("**", "").splitlines():
        line = _LIST_MARKER.sub("", raw.strip())
        if not line:
            continue
        if text and text[-1] not in "。；：！？～":
            text += "；"
        if text and len(text) + len(line) > limit:
            break
        text += line
    if len(text) > limit:  # one long paragraph: cut at the last full sentence that fits
        cut = max(text.rfind(mark, 0, limit) for mark in "。；！？")
        text = text[: cut + 1] if cut > 0 else text[:limit]
    return text.rstrip("；：") if text[-1:] in "；：" else text


def _bigrams(text: str) -> set[str]:
    return {text[i : i + 2] for i in range(len(text) - 1)}


def _closest(phrases: tuple[str, ...], about: str) -> tuple[str, ...]:
    """The feature's phrases that share the most two-character words with the question and its tags."""
    words = _bigrams(about)
    scores = [len(words & _bigrams(phrase)) for phrase in phrases]
    best = max(scores)
    return tuple(p for p, score in zip(phrases, scores, strict=True) if score == best) if best else ()


@cache
def _catalogues() -> dict[str, _Catalogue]:
    # The demo's similar questions include Traditional Chinese on purpose; these transcripts are Simplified.
    simplify = opencc.OpenCC("t2s").convert
    by_product: dict[str, list[tuple[_Topic, float]]] = {}
    with open(DEMO_DIR / "articles.jsonl", encoding="utf-8") as stream:
        for line in stream:
            if not line.strip():
                continue
            article = json.loads(line)
            feature = article["features"][0]
            channel_answers = article.get("channel_answers") or {}
            short = shorten_answer(article["answer"])
            script = SCRIPTS[feature]
            about = " ".join([article["standard_question"], *(article.get("tags") or ())])
            topic = _Topic(
                product=article["product"],
                feature=feature,
                standard_question=article["standard_question"],
                questions=tuple(
                    q for q in [article["standard_question"], *article["similar_questions"]] if simplify(q) == q
                ),
                tags=tuple(article.get("tags") or ())[:2],
                bot_answers={c: channel_answers.get(c) or short for c in CHANNEL_WEIGHTS},
                human_only="人工专属" in (article.get("tags") or ()),
                details=_closest(script.details, about),
                findings=_closest(script.findings, about) or script.findings,
            )
            weight = FEATURE_WEIGHTS.get(feature, 1.0) * (0.4 if "旧版本" in topic.tags else 1.0)
            by_product.setdefault(topic.product, []).append((topic, weight))
    return {
        product: _Catalogue(topics=tuple(t for t, _ in pairs), cum_weights=tuple(accumulate(w for _, w in pairs)))
        for product, pairs in by_product.items()
    }


@cache
def _agents() -> dict[str, tuple[tuple[str, tuple[str, ...]], ...]]:
    """Per team: (agent id, the greetings that agent uses)."""
    teams = {}
    for team, (title, numbers) in TEAM_AGENTS.items():
        agents = []
        for number in numbers:
            name = PHRASES.agent_names[number - 1]
            if team == "电话客服组":  # by product: mall first, wallet second (see _human)
                greetings = tuple(
                    PHRASES.hotline_greeting.format(brand=PHRASES.hotline_brands[product], number=number)
                    for product in ("mall-app", "wallet-app")
                )
            else:
                greetings = tuple(template.format(title=title, name=name) for template in PHRASES.agent_greetings)
            agents.append((f"agent-{number:02d}", greetings))
        teams[team] = tuple(agents)
    return teams


# --- time ----------------------------------------------------------------------------------------


def _timestamp_formatter(window_start: datetime) -> Callable[[int], str]:
    """Seconds after ``window_start`` → ISO 8601 with its UTC offset, without a datetime per message."""
    offset = window_start.isoformat()[-6:]
    midnight = window_start.replace(hour=0, minute=0, second=0, microsecond=0)
    first = int((window_start - midnight).total_seconds())
    days: dict[int, str] = {}

    def format_seconds(t: int) -> str:
        day, second = divmod(first + t, 86400)
        prefix = days.get(day)
        if prefix is None:
            prefix = days[day] = f"{(midnight + timedelta(days=day)).date().isoformat()}T"
        hour, second = divmod(second, 3600)
        minute, second = divmod(second, 60)
        return f"{prefix}{hour:02d}:{minute:02d}:{second:02d}{offset}"

    return format_seconds


def _start_picker(window_start: datetime, days: int) -> Callable[[random.Random, int], int]:
    """Conversation start times (seconds into the window) in one third of it (0, 1 or 2): busier
    around 双十一, at weekends and at peak hours."""
    midnight = window_start.replace(hour=0, minute=0, second=0, microsecond=0)
    first = int((window_start - midnight).total_seconds())
    window = days * 86400
    calendar = list(range(days + (1 if first else 0)))
    weights = []
    for day in calendar:
        date = (midnight + timedelta(days=day)).date()
        weight = 2.5 if date.month == 11 and 11 <= date.day <= 14 else 1.0
        weights.append(weight * (1.15 if date.weekday() >= 5 else 1.0))
    thirds = []
    for part in range(3):
        lo, hi = part * len(calendar) // 3, (part + 1) * len(calendar) // 3
        if lo == hi:  # fewer than three days: every third is the whole window
            lo, hi = 0, len(calendar)
        thirds.append((lo, tuple(accumulate(weights[lo:hi]))))
    hour_cum = tuple(accumulate(HOUR_WEIGHTS))

    def pick(rng: random.Random, part: int) -> int:
        lo, day_cum = thirds[part]
        while True:  # a partial first or last day: draw again when outside the window
            day = lo + bisect(day_cum, rng.random() * day_cum[-1])
            hour = bisect(hour_cum, rng.random() * hour_cum[-1])
            t = day * 86400 + hour * 3600 + int(rng.random() * 3600) - first
            if 0 <= t < window:
                return t

    return pick


def _aware(start: datetime | None) -> datetime:
    if start is None:
        return DEFAULT_START
    if start.tzinfo is None:
        return start.replace(tzinfo=CHINA)
    # A fixed offset: arithmetic in seconds stays monotonic across daylight-saving changes.
    return start.astimezone(timezone(start.utcoffset() or timedelta(0)))


# --- one conversation ----------------------------------------------------------------------------

_MESSAGE_IDS = tuple(f"m{k}" for k in range(1, 200))


class _Transcript:
    """Messages with a clock that only moves forward."""

    __slots__ = ("customer", "format_time", "messages", "rng", "t")

    def __init__(self, rng: random.Random, format_time: Callable[[int], str], t: int, customer: str) -> None:
        self.rng = rng
        self.format_time = format_time
        self.t = t
        self.customer = customer
        self.messages: list[dict] = []

    def add(self, role: str, sender: str, text: str, gap: float) -> None:
        self.t += int(gap)
        self.messages.append(
            {
                "id": _MESSAGE_IDS[len(self.messages)],
                "role": role,
                "sender": sender,
                "sent_at": self.format_time(self.t),
                "text": text,
                "type": "text",
            }
        )

    def customer_says(self, text: str, *, typing: float = 0.6) -> None:
        # People in WeChat type about two characters a second, and think a little first.
        self.add("customer", self.customer, text, 3 + len(text) * typing + self.rng.random() * 20)


@dataclass
class _Return:
    """A customer due to come back about the same topic."""

    customer_id: int
    channel: str
    topic: _Topic
    t: int


@dataclass
class _Plan:
    channel: str
    product: str
    topic: _Topic
    customer_id: int
    t: int
    returning: bool
    will_return: bool


def _ask(rng: random.Random, topic: _Topic, *, returning: bool) -> str:
    question = rng.choice(topic.questions)
    if returning:
        return rng.choice(PHRASES.return_prefixes) + question
    prefix = rng.choice(PHRASES.question_prefixes)
    if question.startswith(("请问", "亲")):
        prefix = ""
    return prefix + question + rng.choice(PHRASES.question_suffixes)


def _team(plan: _Plan, rng: random.Random) -> str:
    if plan.customer_id % VIP_EVERY == 0:
        return "VIP 专席"
    if plan.channel == "phone":
        return "电话客服组"
    if plan.product == "wallet-app":
        return "钱包客服组"
    return "售后一组" if rng.random() < 0.55 else "售后二组"


def _conversation(rng: random.Random, plan: _Plan, format_time: Callable[[int], str]) -> tuple[dict, int]:
    """One payload (``external_id`` left to the caller), and when its last message was sent."""
    random_ = rng.random
    choice = rng.choice
    topic = plan.topic
    customer = f"u-{plan.customer_id}"
    tr = _Transcript(rng, format_time, plan.t, customer)
    team = _team(plan, rng)
    complaint = random_() < (REPEAT_COMPLAINT_SHARE if plan.returning else COMPLAINT_SHARE)
    pii = random_() < PII_SHARE
    human_only = plan.channel in HUMAN_ONLY_CHANNELS
    phone = plan.channel == "phone"

    handoff = streak = gave_up = False
    bot_ok = True
    if not human_only:
        bot = PHRASES.bot_senders[plan.product]
        tr.add("bot", bot, choice(PHRASES.welcomes[plan.product]), 0)
        if random_() < 0.25:
            tr.customer_says(choice(PHRASES.openers))
        tr.customer_says(_ask(rng, topic, returning=plan.returning))
        if complaint and random_() < 0.5:
            tr.customer_says(choice(PHRASES.complaints))
        if topic.human_only:
            handoff = True
            tr.add("bot", bot, PHRASES.bot_human_only, 1 + random_() * 2)
        else:
            handoff = random_() < (COMPLAINT_HANDOFF_SHARE if complaint else HANDOFF_SHARE)
            streak = handoff and random_() < STREAK_SHARE
            gave_up = not handoff and random_() < GIVE_UP_SHARE
            if streak or gave_up:
                bot_ok = False
                _bot_fails(tr, bot, plan, 3 + int(random_() * 3) if streak else 2 + int(random_() * 2))
            else:
                tr.add("bot", bot, topic.bot_answers[plan.channel], 1 + random_() * 2)
            if pii and not streak:
                pii = False
                tr.customer_says(_pii_message(rng), typing=0.3)
                tr.add("bot", bot, PHRASES.bot_pii_warning, 1 + random_())
            if handoff and not streak:
                tr.customer_says(choice(PHRASES.handoff_asks))
                if random_() < 0.6:
                    tr.add("bot", bot, choice(PHRASES.bot_transfers), 1 + random_())
        if handoff:
            tr.add("system", "system", "转人工", random_() * 2)
        elif gave_up:
            tr.customer_says(choice(PHRASES.give_ups))
        else:
            _bot_only_end(tr, bot, plan)
    if not handoff and not human_only:
        resolved = bot_ok and not plan.will_return
        slow = impolite = False
    else:
        slow = random_() < SLOW_SHARE
        impolite = random_() < IMPOLITE_SHARE
        resolved = _human(tr, plan, team, complaint=complaint, pii=pii, slow=slow, impolite=impolite, phone=phone)
        resolved = resolved and not (plan.will_return and random_() < 0.7)
    unhappy = complaint or slow or impolite or streak or gave_up or not resolved
    csat = _csat(rng, unhappy) if random_() < CSAT_SHARE else None
    tags = list(topic.tags)
    if complaint:
        tags.append("投诉")
    payload = {
        "channel": plan.channel,
        "external_id": "",  # set by the caller, which knows the seed and the index
        "product": plan.product,
        "team": team,
        "customer": customer,
        "csat": csat,
        "resolution": "resolved" if resolved else "unresolved",
        "tags": tags,
        "messages": tr.messages,
    }
    return payload, tr.t


def _bot_fails(tr: _Transcript, bot: str, plan: _Plan, times: int) -> None:
    """The bot misses ``times`` answers in a row and the customer says so each time."""
    rng = tr.rng
    catalogue = _catalogues()[plan.product]
    for _ in range(times):
        roll = rng.random()
        if roll < 0.45:
            wrong = catalogue.pick(rng)
            text = wrong.bot_answers[plan.channel] if wrong is not plan.topic else rng.choice(PHRASES.bot_misunderstood)
        elif roll < 0.75:
            text = rng.choice(PHRASES.bot_misunderstood)
        else:
            guesses = [topic.standard_question for topic in rng.sample(catalogue.topics, 3)]
            text = "猜您想问：\n" + "\n".join(f"{i}. {q}" for i, q in enumerate(guesses, 1))
        tr.add("bot", bot, text, 1 + rng.random() * 2)
        tr.customer_says(rng.choice(PHRASES.bot_negations))


def _bot_only_end(tr: _Transcript, bot: str, plan: _Plan) -> None:
    rng = tr.rng
    extra = rng.random()
    if extra < 0.55:  # one or two more questions on the same product
        for _ in range(1 + (extra < 0.2)):
            other = _catalogues()[plan.product].pick(rng)
            tr.customer_says(_ask(rng, other, returning=False))
            tr.add("bot", bot, other.bot_answers[plan.channel], 1 + rng.random() * 2)
    ending = rng.random()
    if ending < 0.6:
        tr.customer_says(rng.choice(PHRASES.customer_thanks))
        tr.add("bot", bot, rng.choice(PHRASES.bot_farewells), 1 + rng.random())
    else:  # people just leave; the session times out
        tr.add("system", "system", rng.choice(PHRASES.system_timeouts), 180 + rng.random() * 420)


def _human(
    tr: _Transcript,
    plan: _Plan,
    team: str,
    *,
    complaint: bool,
    pii: bool,
    slow: bool,
    impolite: bool,
    phone: bool,
) -> bool:
    """An agent serves the customer (after a handoff, or from the start); returns whether it is resolved."""
    rng = tr.rng
    random_ = rng.random
    choice = rng.choice
    topic = plan.topic
    script = SCRIPTS[topic.feature]
    agent, greetings = choice(_agents()[team])
    # Which replies to a waiting customer are slow (3–15 min): one of the first two, sometimes another.
    slow_steps = ({int(random_() * 2)} | ({int(random_() * 4)} if random_() < 0.3 else set())) if slow else set()
    step = 0

    def agent_says(text: str) -> None:
        nonlocal step
        if tr.messages[-1]["role"] != "customer":  # nobody is waiting: a second bubble right away
            tr.add("agent", agent, text, 2 + random_() * 8)
            return
        if step in slow_steps:
            wait = 180 + random_() * 720
            if random_() < 0.6:  # the customer notices, and the reply is still as late
                nudge = 60 + random_() * (wait - 120)
                tr.add("customer", tr.customer, choice(PHRASES.impatient), nudge)
                wait -= nudge
            tr.add("agent", agent, choice(PHRASES.agent_sorry_slow), wait)
            tr.add("agent", agent, text, 2 + random_() * 8)
        elif phone:
            tr.add("agent", agent, text, 2 + random_() * 12)
        else:
            tr.add("agent", agent, text, 10 + random_() * (50 if random_() < 0.9 else 110))
        step += 1

    if phone:
        tr.add("agent", agent, greetings[plan.product == "wallet-app"] if team == "电话客服组" else greetings[0], 0)
        tr.customer_says(choice(PHRASES.phone_openers) + "，" + choice(topic.questions).rstrip("？?"), typing=0.2)
        if topic.details and random_() < 0.5:
            tr.customer_says("就是" + choice(topic.details), typing=0.2)
    else:
        if plan.channel == "wecom":
            tr.customer_says(choice(PHRASES.openers), typing=0.3)
        if tr.messages[-1]["role"] == "system":  # waiting in the queue after 转人工
            tr.add("agent", agent, choice(greetings), 5 + random_() * (85 if random_() < 0.85 else 200))
        else:
            agent_says(choice(greetings))
        if plan.channel == "wecom" or random_() < 0.4:
            tr.customer_says(_ask(rng, topic, returning=plan.returning))
            if topic.details and random_() < 0.5:
                tr.customer_says(choice(topic.details))
    if complaint:
        tr.customer_says(choice(PHRASES.complaints))
        agent_says(choice(PHRASES.agent_soothes))
    opener = "" if phone or plan.channel == "wecom" else choice(PHRASES.agent_handoff_openers)
    ask, wanted = choice((PHRASES.phone_ask_ids if phone else PHRASES.ask_ids)[plan.product])
    agent_says(opener + ask)
    tr.customer_says(_identify(rng, wanted, phone=phone), typing=0.3)
    if pii:
        tr.customer_says(_pii_message(rng), typing=0.3)
    agent_says(choice(PHRASES.agent_holds))
    # Looking it up takes a while; the hold message told the customer so.
    tr.add("agent", agent, choice(topic.findings), 20 + random_() * (40 if phone else 70))
    if impolite:
        tr.customer_says("能不能再帮我看看" if random_() < 0.5 else "你们到底能不能处理")
        agent_says(choice(PHRASES.impolite))
    # Long enough already (a failure streak, a slow reply): fewer follow-up questions; at most 30 messages.
    followups = min(int(random_() * 2.2 + random_() * 1.3), max(0, (21 - len(tr.messages)) // 2))
    for question, answer in rng.sample(script.followups, min(followups, len(script.followups))):
        tr.customer_says(question)
        agent_says(answer)
    resolved = random_() < (0.6 if complaint or impolite else 0.9)
    if not resolved and complaint:
        tr.customer_says(choice(PHRASES.complaint_endings))
        agent_says(choice(PHRASES.agent_soothes))
        return False
    tr.customer_says(choice(PHRASES.customer_thanks))
    agent_says(choice(PHRASES.agent_anything_else))
    if random_() < 0.6:
        tr.customer_says(choice(PHRASES.customer_nothing_else))
        tr.add("agent", agent, choice(PHRASES.agent_farewells), 3 + random_() * 15)
    return resolved


def _identify(rng: random.Random, wanted: str, *, phone: bool) -> str:
    """The customer's answer to "which order / transaction?": 14-digit numbers, so never PII-like."""
    if wanted == "order":
        if not phone and rng.random() < 0.25:
            return PHRASES.screenshot
        number = f"202611{rng.randrange(10**8):08d}"
        return rng.choice((number, f"订单号{number}", f"{number} 这个", f"是这个订单 {number}"))
    if wanted == "tail" or (wanted == "either" and rng.random() < 0.5):
        tail = f"{rng.randrange(10000):04d}"
        return f"嗯，{tail}" if phone else rng.choice(("尾号", "手机尾号", "后四位是", "")) + tail
    return rng.choice(("交易单号T", "单号T", "T")) + f"2026{rng.randrange(10**10):010d}"


_CSAT_HAPPY = tuple(accumulate((2, 3, 8, 25, 62)))  # weights of 1..5
_CSAT_UNHAPPY = tuple(accumulate((32, 24, 22, 13, 9)))


def _csat(rng: random.Random, unhappy: bool) -> int:
    cum = _CSAT_UNHAPPY if unhappy else _CSAT_HAPPY
    return bisect(cum, rng.random() * cum[-1]) + 1


# --- the stream ----------------------------------------------------------------------------------


def _weighted(weights: dict[str, int]) -> Callable[[random.Random], str]:
    keys: Sequence[str] = tuple(weights)
    cum = tuple(accumulate(weights.values()))
    return lambda rng: keys[bisect(cum, rng.random() * cum[-1])]


_pick_channel = _weighted(CHANNEL_WEIGHTS)
# Large primes: one that does not divide the number of customers steps through all of them.
_STRIDES = (1_000_003, 998_244_353, 1_000_000_007)
_pick_product = _weighted(PRODUCT_WEIGHTS)


def generate_conversations(
    count: int, *, seed: int = 0, start: datetime | None = None, days: int = 30
) -> Iterator[dict]:
    """Yield ``count`` conversation payloads for ``POST /api/v1/conversations/``, deterministic per seed.

    Conversations start during the ``days`` days that end at ``start`` (default 2026-11-20 00:00
    Beijing time); timestamps carry ``start``'s UTC offset (+08:00 for a naive ``start``).
    ``external_id`` is ``<channel>-<seed>-<n>`` with n counting from 1. Customers are u-1 … u-⌈count/3⌉.
    """
    if count < 0:
        raise ValueError("count must not be negative")
    if days < 1:
        raise ValueError("days must be at least 1")
    return _stream(count, seed=seed, end=_aware(start), days=days)


def _stream(count: int, *, seed: int, end: datetime, days: int) -> Iterator[dict]:
    rng = random.Random(seed)
    window = days * 86400
    window_start = end - timedelta(seconds=window)
    format_time = _timestamp_formatter(window_start)
    pick_start = _start_picker(window_start, days)
    catalogues = _catalogues()
    customers = max(1, -(-count // 3))
    # Fresh conversations walk through the customers in a shuffled order, round after round, and a
    # customer's visits fall in different thirds of the window. Drawing customers at random instead
    # would put a third of them back within 48 h by chance; this way coming back is what RETURN_SHARE says.
    stride = next(p for p in _STRIDES if customers % p) % customers or 1
    offset = rng.randrange(customers)
    fresh = 0
    # Returns due later, keyed by the index at which they are yielded: a few dozen at a time.
    due: list[tuple[int, int, _Return]] = []
    for n in range(1, count + 1):
        if due and due[0][0] <= n:
            back = heapq.heappop(due)[2]
            plan = _Plan(
                channel=back.channel if rng.random() < 0.6 else _pick_channel(rng),
                product=back.topic.product,
                topic=back.topic,
                customer_id=back.customer_id,
                t=back.t,
                returning=True,
                will_return=False,
            )
        else:
            visit, position = divmod(fresh, customers)
            fresh += 1
            customer_id = (position * stride + offset) % customers + 1
            product = _pick_product(rng)
            plan = _Plan(
                channel=_pick_channel(rng),
                product=product,
                topic=catalogues[product].pick(rng),
                customer_id=customer_id,
                t=pick_start(rng, (visit + customer_id) % 3),
                returning=False,
                will_return=rng.random() < RETURN_SHARE,
            )
        payload, ended = _conversation(rng, plan, format_time)
        payload["external_id"] = f"{plan.channel}-{seed}-{n}"
        if plan.will_return:
            # Back 10 min to 47 h after this one ended, but never after the window closes.
            back_at = ended + 600 + int(rng.random() * (47 * 3600 - 600))
            if back_at < window:
                back = _Return(plan.customer_id, plan.channel, plan.topic, back_at)
                heapq.heappush(due, (n + 1 + int(rng.random() * 40), n, back))
        yield payload


# --- storing them --------------------------------------------------------------------------------

DEMO_SEED = 1  # the demo's conversations (`manage.py load_demo`); benchmarks use others


def load_demo_conversations(
    count: int, *, seed: int = DEMO_SEED, progress: Callable[[int, float], None] | None = None
) -> dict[str, int]:
    """Generate ``count`` conversations and store them through the ingestion service, in batches.

    The same seed gives the same conversations, so loading again adds nothing: they come back
    ``updated``. ``progress(stored so far, per second)`` is called after each batch. Returns how many were
    created, updated (already there) and rejected. The demo products must be there (``load_demo_knowledge``).
    """
    missing = set(PRODUCT_WEIGHTS) - set(Product.objects.values_list("slug", flat=True))
    if missing:
        raise LookupError(f"Products {', '.join(sorted(missing))} are missing: load the demo knowledge first.")
    totals = {"created": 0, "updated": 0, "rejected": 0}
    stream = generate_conversations(count, seed=seed)
    started = time.monotonic()
    while batch := list(itertools.islice(stream, MAX_BATCH)):
        for result in conversations_ingest(batch, backfill=True):
            totals[result.status] += 1
        if progress is not None:
            stored = sum(totals.values())
            progress(stored, stored / max(time.monotonic() - started, 1e-9))
    return totals
