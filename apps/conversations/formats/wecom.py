"""WeChat customer service (微信客服) message dumps → conversation payloads for ``POST /api/v1/conversations/``.

A dump is what WeCom's ``POST /cgi-bin/kf/sync_msg`` returns, as JSON Lines. Each line is either a whole
response (``{"errcode": 0, "msg_list": [...], ...}``) or one message of ``msg_list``; both may be mixed.
Lines are read one at a time and blank lines are skipped. A bad line, or a bad message inside a response
line, becomes a ``WecomRejected`` with its 1-based line number; the stream goes on.

Roles, from ``origin``:
  3 → ``customer``, sender ``external_userid``;
  5 with ``servicer_userid`` → ``agent`` (a human replying from the WeCom client), sender ``servicer_userid``;
  5 without it → ``bot`` (the company's bot sending through the API), sender ``open_kfid``;
  4 → ``system`` (an event pushed by WeCom), sender ``open_kfid``.
Events carry ``open_kfid``/``external_userid`` inside ``event``; an event about no customer (e.g.
``servicer_status_change``) belongs to no conversation and is skipped (counted in ``WecomReader.skipped``).

Text: ``text.content`` for ``text``; every other type becomes a bracketed placeholder, plus what little
the message says about itself: ``[图片]``, ``[语音]``, ``[视频]``, ``[文件]``, ``[名片]``,
``[位置]`` (never the place or address),
``[链接] <title>``, ``[小程序] <title>``, ``[菜单消息] <head> <option / option> <tail>``,
``[视频号] <nickname> <title>``, ``[视频号商品] <title>``, ``[视频号订单] <product_titles>``,
``[聊天记录] <title>``, ``[笔记]``, ``[其他消息] <msgtype>`` for types not listed, and for events
``[事件] <event_type>`` followed by a short Chinese description when there is one, e.g.
``[事件] session_status_change 转接会话 Zhangsan → Lisi``. ``type`` is always the raw ``msgtype``.

Grouping: one conversation per (``open_kfid``, ``external_userid``) until the gap since its latest message
exceeds ``idle_minutes``, or until a ``session_status_change`` with ``change_type`` 3 (session ended), which
is the last message of the conversation it ends. ``external_id`` is
``<open_kfid>:<external_userid>:<msgid of the earliest message>``, so re-reading the same dump gives the same ids.
Each yielded pair starts with the line number where the conversation's first message was read.

Streaming: only open conversations are held. One is yielded as soon as it is known to be closed: when its
session ends, or when the newest ``send_time`` seen so far is more than ``idle_minutes`` past its latest
message (a heap keyed by that time makes the check cheap). What is still open at the end is yielded last.
Dumps are roughly in time order: a message up to ``idle_minutes`` older than the newest one still joins
its conversation, and messages are sorted by ``send_time`` (ties keep input order) when the conversation
is yielded. Older ones, or messages arriving after their session's end event, start a new conversation.
A ``msgid`` already in the open conversation (sync_msg can return a message twice) is dropped and counted
in ``WecomReader.duplicates``; a re-pulled conversation that was already yielded comes out again with the
same ``external_id``.

``handoff`` is true when a human agent's message follows a bot message, or when a ``session_status_change``
with ``change_type`` 1 (taken from the waiting pool) or 2 (transferred to another servicer) is in it.
``sent_at`` is ISO 8601 in UTC.
"""

from __future__ import annotations

import heapq
import itertools
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

ORIGIN_CUSTOMER = 3
ORIGIN_EVENT = 4
ORIGIN_SERVICER = 5

CHANGE_TAKEN_FROM_POOL = 1
CHANGE_TRANSFERRED = 2
CHANGE_ENDED = 3
CHANGE_REENTERED = 4

_LABELS = {
    "image": "图片",
    "voice": "语音",
    "video": "视频",
    "file": "文件",
    "location": "位置",
    "link": "链接",
    "business_card": "名片",
    "miniprogram": "小程序",
    "msgmenu": "菜单消息",
    "channels": "视频号",
    "channels_shop_product": "视频号商品",
    "channels_shop_order": "视频号订单",
    "merged_msg": "聊天记录",
    "note": "笔记",
}
# Fields of the type's own object worth showing after the label.
_DETAILS = {
    # A location's name and address say where the customer is: not kept (only "[位置]"), as the least data
    # the review needs (PIPL 最小必要).
    "link": ("title",),
    "miniprogram": ("title",),
    "channels": ("nickname", "title"),
    "channels_shop_product": ("title",),
    "channels_shop_order": ("product_titles",),
    "merged_msg": ("title",),
}
_EVENTS = {
    "enter_session": "用户进入会话",
    "msg_send_fail": "消息发送失败",
    "user_recall_msg": "用户撤回消息",
    "servicer_recall_msg": "接待人员撤回消息",
}

Key = tuple[str, str]  # (open_kfid, external_userid)


@dataclass(frozen=True)
class WecomRejected:
    line: int  # 1-based line number in the file
    error: str  # human-readable, e.g. "invalid JSON: Expecting value" or "message without msgid"


class _Invalid(ValueError):
    """A message that cannot be used; reported as ``WecomRejected``."""


@dataclass
class _Message:
    key: Key
    msgid: str
    send_time: int
    role: str
    payload: dict[str, Any]
    ends_session: bool
    hands_off: bool


@dataclass(eq=False)
class _OpenConversation:
    key: Key
    first_line: int
    last_time: int
    messages: list[_Message] = field(default_factory=list)
    msgids: set[str] = field(default_factory=set)


class WecomReader:
    """Streams one dump; ``open_count``, ``duplicates`` and ``skipped`` can be watched while it runs."""

    def __init__(
        self, *, idle_minutes: int = 30, channel: str = "wechat", product: str | None = None, team: str | None = None
    ) -> None:
        if idle_minutes < 0:
            raise ValueError("idle_minutes must not be negative")
        self.idle_seconds = idle_minutes * 60
        self.channel = channel
        self.product = product
        self.team = team
        self.duplicates = 0
        self.skipped = 0
        self._open: dict[Key, _OpenConversation] = {}
        # (last message time, tie-break, key); entries go stale when a conversation moves on, and are
        # checked against the conversation when popped.
        self._expiry: list[tuple[int, int, Key]] = []
        self._tiebreak = itertools.count()
        self._newest: int | None = None

    @property
    def open_count(self) -> int:
        return len(self._open)

    def read(self, lines: Iterable[str]) -> Iterator[tuple[int, dict] | WecomRejected]:
        for number, raw in enumerate(lines, start=1):
            text = raw.strip().lstrip("\ufeff") if number == 1 else raw.strip()
            if text:
                yield from self._read_line(number, text)
        yield from self._close_all()

    def _read_line(self, number: int, text: str) -> Iterator[tuple[int, dict] | WecomRejected]:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            yield WecomRejected(number, f"invalid JSON: {exc.msg}")
            return
        if not isinstance(data, dict):
            yield WecomRejected(number, f"expected a JSON object, got {type(data).__name__}")
            return
        if "msg_list" not in data and not ("errcode" in data and "msgid" not in data):
            yield from self._take(number, data, where="")
            return
        if data.get("errcode"):
            yield WecomRejected(number, f"sync_msg error {data.get('errcode')}: {data.get('errmsg', '')}")
            return
        msg_list = data.get("msg_list")
        if not isinstance(msg_list, list):
            yield WecomRejected(number, "sync_msg response without msg_list")
            return
        for index, item in enumerate(msg_list):
            yield from self._take(number, item, where=f"msg_list[{index}]: ")

    def _take(self, number: int, item: Any, *, where: str) -> Iterator[tuple[int, dict] | WecomRejected]:
        try:
            message = _parse_message(item)
        except _Invalid as exc:
            yield WecomRejected(number, f"{where}{exc}")
            return
        if message is None:
            self.skipped += 1
            return
        yield from self._add(number, message)

    def _add(self, number: int, message: _Message) -> Iterator[tuple[int, dict]]:
        if self._newest is None or message.send_time > self._newest:
            self._newest = message.send_time
            # Also closes this customer's conversation when the gap exceeds idle_minutes: an older
            # message cannot exceed the gap without the newest one having exceeded it first.
            yield from self._close_idle()
        conversation = self._open.get(message.key)
        if conversation is None:
            conversation = _OpenConversation(message.key, first_line=number, last_time=message.send_time)
            self._open[message.key] = conversation
            self._schedule(conversation)
        if message.msgid in conversation.msgids:
            self.duplicates += 1
            return
        conversation.messages.append(message)
        conversation.msgids.add(message.msgid)
        if message.send_time > conversation.last_time:
            conversation.last_time = message.send_time
            self._schedule(conversation)
        if message.ends_session:
            del self._open[message.key]
            yield self._emit(conversation)

    def _schedule(self, conversation: _OpenConversation) -> None:
        heapq.heappush(self._expiry, (conversation.last_time, next(self._tiebreak), conversation.key))
        if len(self._expiry) > 2 * len(self._open) + 1024:
            # Stale entries would otherwise grow with the traffic inside one idle window.
            self._expiry = [(c.last_time, next(self._tiebreak), c.key) for c in self._open.values()]
            heapq.heapify(self._expiry)

    def _close_idle(self) -> Iterator[tuple[int, dict]]:
        assert self._newest is not None
        horizon = self._newest - self.idle_seconds
        while self._expiry and self._expiry[0][0] < horizon:
            _, _, key = heapq.heappop(self._expiry)
            conversation = self._open.get(key)
            if conversation is not None and conversation.last_time < horizon:
                del self._open[key]
                yield self._emit(conversation)

    def _close_all(self) -> Iterator[tuple[int, dict]]:
        remaining = sorted(self._open.values(), key=lambda c: c.first_line)
        self._open = {}
        self._expiry = []
        self._newest = None
        for conversation in remaining:
            yield self._emit(conversation)

    def _emit(self, conversation: _OpenConversation) -> tuple[int, dict]:
        messages = sorted(conversation.messages, key=lambda m: m.send_time)
        open_kfid, external_userid = conversation.key
        payload = {
            "channel": self.channel,
            "external_id": f"{open_kfid}:{external_userid}:{messages[0].msgid}",
            "product": self.product,
            "team": self.team,
            "customer": external_userid,
            "messages": [m.payload for m in messages],
            "tags": [],
            "handoff": _handed_off(messages),
        }
        return conversation.first_line, payload


def read_wecom(
    lines: Iterable[str],
    *,
    idle_minutes: int = 30,
    channel: str = "wechat",
    product: str | None = None,
    team: str | None = None,
) -> Iterator[tuple[int, dict] | WecomRejected]:
    """Yield ``(first_line_number, conversation_payload)`` or ``WecomRejected`` while reading ``lines``."""
    reader = WecomReader(idle_minutes=idle_minutes, channel=channel, product=product, team=team)
    return reader.read(lines)


def _handed_off(messages: list[_Message]) -> bool:
    bot_spoke = False
    for message in messages:
        if message.hands_off or (message.role == "agent" and bot_spoke):
            return True
        bot_spoke = bot_spoke or message.role == "bot"
    return False


def _parse_message(item: Any) -> _Message | None:
    """The message as we keep it, ``None`` for an event about no customer; ``_Invalid`` if unusable."""
    if not isinstance(item, dict):
        raise _Invalid("message is not a JSON object")
    msgid = _string(item, "msgid")
    if not msgid:
        raise _Invalid("message without msgid")
    send_time = item.get("send_time")
    if isinstance(send_time, bool) or not isinstance(send_time, int | float) or not 0 < send_time < 10**10:
        raise _Invalid(f"message {msgid}: send_time is not a Unix timestamp")
    send_time = int(send_time)
    msgtype = _string(item, "msgtype")
    if not msgtype:
        raise _Invalid(f"message {msgid}: without msgtype")
    event = item.get("event") if msgtype == "event" else None
    event = event if isinstance(event, dict) else {}
    open_kfid = _string(item, "open_kfid") or _string(event, "open_kfid")
    external_userid = _string(item, "external_userid") or _string(event, "external_userid")
    origin = item.get("origin", ORIGIN_EVENT if msgtype == "event" else None)

    if origin == ORIGIN_CUSTOMER:
        role, sender = "customer", external_userid
    elif origin == ORIGIN_EVENT:
        role, sender = "system", open_kfid
    elif origin == ORIGIN_SERVICER:
        servicer = _string(item, "servicer_userid")
        role, sender = ("agent", servicer) if servicer else ("bot", open_kfid)
    else:
        raise _Invalid(f"message {msgid}: unknown origin {origin!r}")
    if not (open_kfid and external_userid):
        if origin == ORIGIN_EVENT:
            return None
        raise _Invalid(f"message {msgid}: without open_kfid or external_userid")

    change_type = _change_type(event)
    return _Message(
        key=(open_kfid, external_userid),
        msgid=msgid,
        send_time=send_time,
        role=role,
        payload={
            "id": msgid,
            "role": role,
            "sender": sender,
            "sent_at": datetime.fromtimestamp(send_time, tz=UTC).isoformat(),
            "text": _message_text(msgtype, item, event),
            "type": msgtype,
        },
        ends_session=change_type == CHANGE_ENDED,
        hands_off=change_type in (CHANGE_TAKEN_FROM_POOL, CHANGE_TRANSFERRED),
    )


def _message_text(msgtype: str, item: dict, event: dict) -> str:
    if msgtype == "text":
        body = item.get("text")
        return _string(body, "content") if isinstance(body, dict) else ""
    if msgtype == "event":
        return _event_text(event)
    label = _LABELS.get(msgtype)
    if label is None:
        return f"[其他消息] {msgtype}"
    body = item.get(msgtype)
    body = body if isinstance(body, dict) else {}
    if msgtype == "msgmenu":
        details = [_string(body, "head_content"), " / ".join(_menu_options(body)), _string(body, "tail_content")]
    else:
        details = [_string(body, name) for name in _DETAILS.get(msgtype, ())]
    return " ".join([f"[{label}]", *(d for d in details if d)])


def _menu_options(menu: dict) -> list[str]:
    options = []
    for entry in menu.get("list") or []:
        if isinstance(entry, dict) and isinstance(option := entry.get(entry.get("type")), dict):
            options.append(_string(option, "content"))
    return [o for o in options if o]


def _event_text(event: dict) -> str:
    event_type = _string(event, "event_type") or "unknown"
    detail = _EVENTS.get(event_type, "")
    if event_type == "session_status_change":
        old = _string(event, "old_servicer_userid") or "?"
        new = _string(event, "new_servicer_userid") or "?"
        detail = {
            CHANGE_TAKEN_FROM_POOL: f"从待接入池接入会话 → {new}",
            CHANGE_TRANSFERRED: f"转接会话 {old} → {new}",
            CHANGE_ENDED: "结束会话",
            CHANGE_REENTERED: f"重新接入会话 → {new}",
        }.get(_change_type(event), "")
    return " ".join(part for part in ("[事件]", event_type, detail) if part)


def _change_type(event: dict) -> int | None:
    if _string(event, "event_type") != "session_status_change":
        return None
    value = event.get("change_type")
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _string(data: Any, name: str) -> str:
    value = data.get(name) if isinstance(data, dict) else None
    return value if isinstance(value, str) else ""
