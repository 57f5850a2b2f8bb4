"""The load test's clients: threads with keep-alive HTTP connections (``http.client``), each playing one
part (a bot, a system sending conversations, a reviewer, the CI/CD pipeline) until told to stop, recording
every request's latency and outcome per endpoint."""

from __future__ import annotations

import http.client
import itertools
import json
import random
import re
import select
import threading
import time
import urllib.parse
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from load_data import ConversationSource, LoadData, new_question

# Every request comes as through the TLS-terminating proxy of a deployment (SECURE_PROXY_SSL_HEADER): the
# production settings' secure cookies, CSRF origin checks and HTTPS redirect all apply as they would there.
FORWARDED = {"X-Forwarded-Proto": "https"}
TIMEOUT = 60.0  # seconds; a request slower than this counts as an error (an exception)
KEEPALIVE_SECONDS = 1.5  # gunicorn closes idle keep-alive connections after 2 s: reconnect before that
# A reused connection that fails before any answer: the server closed it as idle while the request was on its
# way (gunicorn had not read it). Sent again once on a new connection, as browsers do, and counted apart.
_KEEPALIVE_RACE = (ConnectionResetError, BrokenPipeError, http.client.RemoteDisconnected)


@dataclass
class Stats:
    """Latencies and outcomes per endpoint for one step (thread-safe)."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statuses: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    errors: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    examples: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    retried: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))

    def record(self, endpoint: str, ms: float, outcome: int | str, error: str | None = None) -> None:
        with self.lock:
            self.latencies[endpoint].append(ms)
            self.statuses[endpoint][outcome] += 1
            if error is not None:
                self.errors[endpoint][outcome] += 1
                if len(self.examples[endpoint]) < 5:
                    self.examples[endpoint].append(error[:2000])

    def record_retry(self, endpoint: str, detail: str) -> None:
        with self.lock:
            self.retried[endpoint].append(detail)


class Client:
    """One keep-alive connection and its cookies (a browser, or an integration's HTTP client)."""

    def __init__(self, port: int, stats: Stats, headers: dict[str, str] | None = None) -> None:
        self.port = port
        self.stats = stats
        self.headers = {**FORWARDED, **(headers or {})}
        self.cookies: dict[str, str] = {}
        self.conn: http.client.HTTPConnection | None = None
        self.last_used = 0.0
        self.served = 0  # requests answered on the current connection

    def _connection(self) -> bool:
        """The connection to send on; whether it is a reused one. Like urllib3, a kept-alive connection is
        dropped when idle for long, or when the server has closed it already (readable before we send)."""
        if self.conn is not None and self.conn.sock is not None:
            idle = time.monotonic() - self.last_used
            closed_by_server = select.select([self.conn.sock], [], [], 0)[0]
            if idle <= KEEPALIVE_SECONDS and not closed_by_server:
                return True
        self.close()
        self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=TIMEOUT)
        return False

    def request(
        self,
        endpoint: str,
        method: str,
        path: str,
        *,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
        expect: tuple[int, ...] = (200,),
    ) -> tuple[int, http.client.HTTPResponse | None, bytes]:
        """Send, read the whole answer, record it under ``endpoint``. Anything but an ``expect``ed status
        (or an exception: refused, reset, timed out) counts as an error; returns (status or 0, response, body)."""
        all_headers = {**self.headers, **(headers or {})}
        if self.cookies:
            all_headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        start = time.perf_counter()
        for attempt in (1, 2):
            reused = self._connection()
            idle = time.monotonic() - self.last_used
            try:
                self.conn.request(method, path, body=body, headers=all_headers)
                response = self.conn.getresponse()
            except _KEEPALIVE_RACE as exc:
                if reused and attempt == 1:
                    detail = f"{exc!r} on a connection idle {idle:.2f} s after {self.served} requests"
                    self.stats.record_retry(endpoint, detail)
                    self.close()
                    continue
                return self._failed(endpoint, start, exc, reused, idle)
            except (OSError, http.client.HTTPException) as exc:
                return self._failed(endpoint, start, exc, reused, idle)
            break
        try:
            content = response.read()
        except (OSError, http.client.HTTPException) as exc:
            return self._failed(endpoint, start, exc, reused, idle)
        ms = (time.perf_counter() - start) * 1000
        self.last_used = time.monotonic()
        self.served += 1
        for cookie in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = cookie.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]
        if response.status in expect:
            self.stats.record(endpoint, ms, response.status)
        else:
            detail = f"{method} {path} -> {response.status}: {content[:1500].decode(errors='replace')}"
            self.stats.record(endpoint, ms, response.status, detail)
        if response.will_close:
            self.close()
        return response.status, response, content

    def _failed(self, endpoint: str, start: float, exc: Exception, reused: bool, idle: float) -> tuple:
        where = f"a connection idle {idle:.2f} s after {self.served} requests" if reused else "a new connection"
        ms = (time.perf_counter() - start) * 1000
        self.stats.record(endpoint, ms, type(exc).__name__, f"{exc!r} after {ms:,.0f} ms on {where}")
        self.close()
        return 0, None, b""

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None
        self.served = 0


# --- the parts ------------------------------------------------------------------------------------------

_counter = itertools.count(1)  # new questions, unique across threads and steps


def bot(port: int, stats: Stats, stop: threading.Event, data: LoadData, seed: int, repeated_share: float) -> None:
    """A chat bot asking for answers as fast as it gets them: repeated questions (answered from the cache
    after their first time) and new ones (embedded and searched), one customer session per few questions."""
    rng = random.Random(seed)
    client = Client(port, stats, {"Authorization": f"Api-Key {data.bot_key}", "Content-Type": "application/json"})
    session = 0
    while not stop.is_set():
        if rng.random() < 0.25:
            session += 1
        if rng.random() < repeated_share:
            endpoint, question = "POST /api/v1/answers/ (repeated)", rng.choice(data.repeated_questions)
        else:
            endpoint, question = "POST /api/v1/answers/ (new)", new_question(data.stems, next(_counter), rng)
        body = {"question": question, "channel": "wechat", "session_id": f"load-{seed}-{session}"}
        status, _response, content = client.request(
            endpoint, "POST", "/api/v1/answers/", body=json.dumps(body, ensure_ascii=False).encode()
        )
        if status == 200 and b'"decision"' not in content:
            stats.record(endpoint + " [body]", 0.0, "no decision", content[:500].decode(errors="replace"))
    client.close()


@dataclass
class Ledger:
    """Every conversation sent (external id → messages) and every one the API accepted (thread-safe)."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    sent: dict[str, int] = field(default_factory=dict)
    accepted: set[str] = field(default_factory=set)
    rejected: dict[str, dict] = field(default_factory=dict)


def ingestion(
    port: int,
    stats: Stats,
    stop: threading.Event,
    data: LoadData,
    source: ConversationSource,
    ledger: Ledger,
    batch_size: int,
    pause: float,
) -> None:
    """A contact-centre system posting finished conversations in batches."""
    client = Client(port, stats, {"Authorization": f"Api-Key {data.ingest_key}", "Content-Type": "application/json"})
    endpoint = "POST /api/v1/conversations/"
    while not stop.is_set():
        batch = source.batch(batch_size)
        with ledger.lock:
            for conversation in batch:
                ledger.sent[conversation["external_id"]] = len({m["id"] for m in conversation["messages"]})
        body = json.dumps({"conversations": batch}, ensure_ascii=False).encode()
        status, _response, content = client.request(endpoint, "POST", "/api/v1/conversations/", body=body)
        if status == 200:
            results = json.loads(content)["results"]
            with ledger.lock:
                for result in results:
                    if result["status"] in ("created", "updated"):
                        ledger.accepted.add(result["external_id"])
                    else:
                        ledger.rejected[result["external_id"]] = result.get("errors", {})
            if any(r["status"] == "rejected" for r in results):
                stats.record(endpoint + " [items rejected]", 0.0, "rejected", json.dumps(results)[:1500])
        if pause:
            stop.wait(pause)
    client.close()


_TASK_LINK = re.compile(rb'href="/qa/tasks/(\d+)/"')
_CSRF_FIELD = re.compile(rb'name="csrfmiddlewaretoken" value="([^"]+)"')


def sign_in(client: Client, username: str, password: str) -> bool:
    """The admin's sign-in form, as a browser fills it: its page (CSRF cookie and token), then the POST."""
    status, _response, page = client.request("GET /admin/login/", "GET", "/admin/login/?next=/qa/")
    match = _CSRF_FIELD.search(page) if status == 200 else None
    if match is None:
        return False
    origin = f"https://127.0.0.1:{client.port}"
    form = urllib.parse.urlencode(
        {"csrfmiddlewaretoken": match.group(1).decode(), "username": username, "password": password, "next": "/qa/"}
    ).encode()
    status, _response, _content = client.request(
        "POST /admin/login/",
        "POST",
        "/admin/login/?next=/qa/",
        body=form,
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Origin": origin,
            "Referer": f"{origin}/admin/login/?next=/qa/",
        },
        expect=(302,),
    )
    return status == 302 and "sessionid" in client.cookies


def reviewer(
    port: int, stats: Stats, stop: threading.Event, username: str, password: str, seed: int, think: float
) -> None:
    """A reviewer signed in with a real session: the queue, then one of their tasks' review page, again."""
    rng = random.Random(seed)
    client = Client(port, stats, {"Accept-Language": "zh-hans"})
    if not sign_in(client, username, password):
        stats.record("POST /admin/login/ [no session]", 0.0, "no session", f"{username} could not sign in")
        return
    while not stop.is_set():
        status, _response, page = client.request("GET /qa/", "GET", "/qa/")
        tasks = _TASK_LINK.findall(page) if status == 200 else []
        if tasks:
            task = int(rng.choice(tasks))
            client.request("GET /qa/tasks/{id}/", "GET", f"/qa/tasks/{task}/")
        if think:
            stop.wait(think)
    client.close()


def record_release(port: int, stats: Stats, data: LoadData, release: dict) -> dict | None:
    """The CI/CD pipeline recording a release (stale flags follow on the worker)."""
    client = Client(port, stats, {"Authorization": f"Api-Key {data.release_key}", "Content-Type": "application/json"})
    status, _response, content = client.request(
        "POST /api/v1/releases/", "POST", "/api/v1/releases/", body=json.dumps(release).encode(), expect=(201,)
    )
    client.close()
    return json.loads(content) if status == 201 else None
