"""A fake Slack Web API on loopback, for tests that run the real bot against real HTTP.

`FakeSlack` is a real HTTP server (``http.server`` in a thread) on 127.0.0.1. Point the bot at it with
``SLACK_API_URL=fake.base_url`` and give slash commands / block_actions ``fake.response_url()`` as their
``response_url``. It:

- records every call as a `Call` (kind "api" or "response_url", method, parsed body, headers, status);
- checks the bot token (``Authorization: Bearer <token>``) on Web API calls: a wrong or missing token
  gets ``{"ok": false, "error": "invalid_auth"}``; ``apps.connections.open`` checks the app token (``xapp-...``)
  instead, refuses a bot token with ``not_allowed_token_type`` as Slack does, and answers with the URL of the
  Socket Mode endpoint attached as ``socket_mode_url`` (tests/fake_socket_mode.py attaches itself);
- validates what Slack would refuse or what the bot must never send, and lists it in ``fake.violations``
  (answering like Slack: ``{"ok": false, "error": "invalid_blocks"}``, or HTTP 400 on a response_url):
  more than 50 blocks (100 in a view), a section text over 3,000 characters, a message
  (chat.postMessage, chat.postEphemeral, chat.update, response_url posts) without a non-empty ``text``
  fallback, and ``link_names`` / ``parse=full``, which would turn escaped text back into pings;
- checks chat.unfurl as Slack does: a target (`channel` and `ts`, or `unfurl_id` and `source`), an
  `unfurls` object whose keys are URLs shared in that message (as `fake.links_shared(...)` made the
  link_shared event say; any other key is refused with ``cannot_unfurl_url``) and whose values carry
  valid `blocks`; and keeps each message's previews as Slack does, one per URL: a later chat.unfurl of the same
  message replaces the previews of the URLs it names rather than adding more (``fake.previews_of(...)``);
- answers like Slack: auth.test names the bot (``bot_user_id``, ``bot_id``, ``team_id``),
  chat.postMessage returns a fresh ``ts``, chat.postEphemeral a ``message_ts``, anything else ``ok``;
- can be told to fail: ``fake.fail_next(2, status=429, retry_after=0)`` (or ``status=500``, or
  ``error="channel_not_found"``: an ``ok: false`` answer, or a 400 on a response_url), optionally only
  for one ``method`` (a Web API method name or ``"response_url"``); with ``after_keeping=True`` a 5xx comes
  after the call took effect (a message posted and kept), as Slack's can;
- keeps modals as Slack does: views.open (a ``trigger_id`` and a valid modal: a title of at most 24
  characters, a ``submit`` button when it has an input block) answers the view with an ``id`` and a
  ``hash``; views.update takes the view's ``view_id`` and, when given, refuses a ``hash`` that is not the
  view's latest with ``hash_conflict``; each update gives the view a new hash;
- checks the assistant methods (assistant.threads.setStatus, setSuggestedPrompts with one to four
  prompts of a title and a message, setTitle), each needing ``channel_id`` and ``thread_ts``;
- keeps what chat.postMessage posts, as Slack does: a reply in its thread, any other message in its
  channel's history, with the bot's ``bot_id`` and ``user`` and its ``metadata`` (refused with
  ``invalid_metadata`` unless an ``event_type`` and an ``event_payload`` of strings, numbers and booleans);
- keeps a response_url post ``in_channel`` as a message of its channel, for a response_url made with one
  (``fake.response_url(channel)``), with its ``metadata``, as Slack turns such a reply into a channel message;
- answers conversations.replies from threads put there with ``fake.add_thread(channel, ts, messages)``
  or by the bot's own replies: the thread's messages from its first, ``limit`` of them; an unknown
  thread is ``thread_not_found``; and conversations.history from a channel's messages after ``oldest``,
  newest first. Both show a message's metadata only with ``include_all_metadata``.
- can be told to answer slowly, as Slack does across the internet: ``fake.slow_down("response_url", 0.25)``
  (the call is recorded when it is answered, even if the caller has gone meanwhile).

Calls arrive asynchronously (the bot answers after acknowledging), so tests wait with
``fake.wait_for("chat.postMessage")`` rather than sleeping. The ``fake_slack`` fixture in
tests/conftest.py starts one per test and fails the test if any violation was recorded.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

BOT_TOKEN = "xoxb-fake-bot-token"
APP_TOKEN = "xapp-1-A0NOTESBOT-1-fake-app-token"
BOT_USER_ID = "UBOT0001"
BOT_ID = "BBOT0001"
TEAM_ID = "T0000001"

MESSAGE_METHODS = {"chat.postMessage", "chat.postEphemeral", "chat.update", "chat.scheduleMessage"}
UNFURL_SOURCES = {"composer", "conversations_history"}
MAX_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
SECTION_LIMIT = 3000
VIEW_TITLE_LIMIT = 24
MAX_SUGGESTED_PROMPTS = 4
ASSISTANT_FIELDS = {
    "assistant.threads.setStatus": "status",
    "assistant.threads.setSuggestedPrompts": "prompts",
    "assistant.threads.setTitle": "title",
}


@dataclass(frozen=True)
class Call:
    kind: str  # "api" or "response_url"
    method: str  # Web API method, or "response_url"
    path: str
    body: dict[str, Any]
    headers: dict[str, str]
    status: int  # what the fake answered
    answer: Any = None  # the body it answered with (a posted message's ts, an opened view's id and hash)

    @property
    def texts(self) -> str:
        """The message's fallback and every text of its blocks, one per line."""
        parts = [self.body.get("text", "")]
        for block in self.body.get("blocks", []):
            if "text" in block:
                parts.append(block["text"]["text"])
            parts += [e.get("text", "") for e in block.get("elements", []) if isinstance(e.get("text"), str)]
        return "\n".join(parts)


@dataclass
class _Failure:
    method: str | None
    status: int
    retry_after: int | None
    error: str | None
    after_keeping: bool = False


@dataclass
class FakeSlack:
    token: str = BOT_TOKEN
    bot_user_id: str = BOT_USER_ID
    bot_id: str = BOT_ID
    team_id: str = TEAM_ID
    app_token: str = APP_TOKEN
    socket_mode_url: Callable[[], str] | None = None  # a fresh Socket Mode URL per apps.connections.open
    calls: list[Call] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    # URLs shared per message ("channel ts" or "unfurl_id"), which chat.unfurl may preview
    shared_links: dict[str, set[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._lock = threading.Condition()
        self._failures: list[_Failure] = []
        self._view_hashes: dict[str, str] = {}  # each open modal's latest hash, by view id
        self._views = itertools.count(1)
        self._threads: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self._history: dict[str, list[dict[str, Any]]] = {}  # each channel's messages outside threads, oldest first
        self._response_channels: dict[str, str] = {}  # the channel of each response_url made with one, by path
        # each message's previews as chat.unfurl left them, by URL ("channel ts" or "unfurl_id", as `shared_links`)
        self._previews: dict[str, dict[str, Any]] = {}
        self._delays: dict[str, float] = {}
        self._ts = itertools.count(1)
        self._responses = itertools.count(1)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        # Stopping waits for the server's next poll (every 0.5 s by default): a short one keeps teardowns short.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, name="fake-slack", daemon=True
        )

    # --- lifecycle ---

    def start(self) -> FakeSlack:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FakeSlack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def origin(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def base_url(self) -> str:
        """The value for SLACK_API_URL (with the trailing slash slack_sdk expects)."""
        return f"{self.origin}/api/"

    def response_url(self, channel: str | None = None) -> str:
        """A fresh response_url, as Slack gives each slash command and block_actions payload; with the `channel` it
        was given in, a post there `in_channel` becomes a message of that channel's history, as in Slack."""
        path = f"/response/{next(self._responses)}"
        if channel is not None:
            self._response_channels[path] = channel
        return f"{self.origin}{path}"

    # --- scripting ---

    def fail_next(
        self,
        times: int = 1,
        *,
        status: int = 429,
        retry_after: int | None = 0,
        error: str | None = None,
        method: str | None = None,
        after_keeping: bool = False,
    ) -> None:
        """Answer the next `times` calls (to `method` only, if given) with `status`.

        429 carries `Retry-After: retry_after`; with `error` the answer is a 200 `{"ok": false}`; with
        `after_keeping` the call takes effect first (a posted message is kept), then fails.
        """
        with self._lock:
            self._failures += [_Failure(method, status, retry_after, error, after_keeping) for _ in range(times)]

    def links_shared(
        self,
        urls: list[str],
        *,
        channel: str = "C0GENERAL1",
        message_ts: str | None = None,
        unfurl_id: str | None = None,
        source: str | None = None,
        user: str = "U0ASKER01",
    ) -> dict[str, Any]:
        """The `link_shared` event Slack sends for a message with `urls` (and remembers them, so that
        chat.unfurl may preview exactly those). With `unfurl_id` the event carries it and its `source`."""
        message_ts = message_ts or f"{1_700_000_000 + next(self._ts)}.000300"
        event: dict[str, Any] = {
            "type": "link_shared",
            "channel": channel,
            "is_bot_user_member": True,
            "user": user,
            "message_ts": message_ts,
            "links": [{"domain": (urlsplit(url).hostname or ""), "url": url} for url in urls],
            "event_ts": message_ts,
        }
        if unfurl_id is not None:
            event |= {"unfurl_id": unfurl_id, "source": source or "conversations_history"}
        with self._lock:
            for key in (f"{channel} {message_ts}", unfurl_id):
                if key:
                    self.shared_links.setdefault(key, set()).update(urls)
        return event

    def previews_of(self, channel: str, message_ts: str) -> dict[str, Any]:
        """The previews a message shows, by URL: each as the last chat.unfurl of that message gave it."""
        with self._lock:
            return dict(self._previews.get(f"{channel} {message_ts}", {}))

    def add_thread(self, channel: str, ts: str, messages: list[dict[str, Any]]) -> None:
        """A thread for conversations.replies: its messages, the first one (the thread's root) first."""
        with self._lock:
            self._threads[(channel, ts)] = [{"type": "message", "ts": ts} | messages[0], *messages[1:]]

    def slow_down(self, method: str, seconds: float) -> None:
        """Answer each call to `method` (a Web API method or "response_url") `seconds` late."""
        self._delays[method] = seconds

    # --- reading what happened ---

    def calls_to(self, method: str | None = None, *, answered_ok: bool = False) -> list[Call]:
        """Calls to `method` (a Web API method or "response_url"; all if None), only 200s with `answered_ok`."""
        with self._lock:
            return [
                c for c in self.calls if (method is None or c.method == method) and (not answered_ok or c.status == 200)
            ]

    def wait_for(self, method: str, count: int = 1, timeout: float = 10.0) -> list[Call]:
        """Wait until `count` calls to `method` were answered 200, and return those calls."""
        self.wait_until(lambda: len(self.calls_to(method, answered_ok=True)) >= count, timeout)
        return self.calls_to(method, answered_ok=True)

    def wait_until(self, condition: Callable[[], bool], timeout: float = 10.0) -> None:
        """Wait until `condition()` holds (checked on every call); AssertionError after `timeout` seconds."""
        with self._lock:
            if not self._lock.wait_for(condition, timeout):
                seen = [f"{c.method}:{c.status}" for c in self.calls]
                raise AssertionError(f"fake Slack: condition not met within {timeout}s; calls so far: {seen}")

    # --- serving (called from the server's threads) ---

    def _answer(self, kind: str, method: str, path: str, body: dict, headers: dict) -> tuple[int, dict, Any]:
        time.sleep(self._delays.get(method, 0.0))  # a round trip to Slack, outside the lock: calls overlap
        with self._lock:
            status, extra_headers, payload = self._decide(kind, method, body, headers)
            if kind == "response_url" and status == 200:
                self._keep_in_channel(path, body)
            self.calls.append(Call(kind, method, path, body, headers, status, payload))
            self._lock.notify_all()
        return status, extra_headers, payload

    def _decide(self, kind: str, method: str, body: dict, headers: dict) -> tuple[int, dict, Any]:
        failure = next((f for f in self._failures if f.method in (None, method)), None)
        if failure is not None:
            self._failures.remove(failure)
            if failure.error:
                return self._refusal(kind, failure.error)
            if failure.after_keeping and kind == "api":
                self._success(method, body)
            retry = {"Retry-After": str(failure.retry_after)} if failure.retry_after is not None else {}
            return failure.status, retry, {"ok": False, "error": "ratelimited" if failure.status == 429 else "fatal"}
        if kind == "api":
            refusal = self._token_refusal(method, headers.get("authorization", "")) or self._state_refusal(method, body)
            if refusal is not None:
                return 200, {}, {"ok": False, "error": refusal}
        problems = _validate(method, body) + (self._unfurl_problems(body) if method == "chat.unfurl" else [])
        if method == "chat.unfurl" and any("cannot_unfurl_url" in p for p in problems):
            self.violations += [f"{method}: {p}" for p in problems]
            return self._refusal(kind, "cannot_unfurl_url")
        if problems:
            self.violations += [f"{method}: {p}" for p in problems]
            return self._refusal(kind, "invalid_blocks")
        if kind == "response_url":
            return 200, {}, "ok"
        return 200, {}, self._success(method, body)

    def _unfurl_problems(self, body: dict) -> list[str]:
        """What Slack refuses in a chat.unfurl: no (or a half) target, `unfurls` that are not an object of
        previews with valid blocks, or keys that are not URLs shared in the message."""
        by_message = bool(body.get("channel") and body.get("ts"))
        by_unfurl_id = bool(body.get("unfurl_id") and body.get("source"))
        if by_message == by_unfurl_id:
            return ["give `channel` and `ts`, or `unfurl_id` and `source` (one pair, not both)"]
        if by_unfurl_id and body["source"] not in UNFURL_SOURCES:
            return [f"`source` {body['source']!r} is not one of {sorted(UNFURL_SOURCES)}"]
        unfurls = _unfurls(body)
        if not isinstance(unfurls, dict) or not unfurls:
            return ["`unfurls` is not a non-empty object of URL -> preview"]
        message = _unfurled_message(body)
        shared = self.shared_links.get(message, set())
        problems = [f"cannot_unfurl_url: {url!r} was not shared in {message}" for url in unfurls if url not in shared]
        for url, preview in unfurls.items():
            if not isinstance(preview, dict) or not isinstance(preview.get("blocks"), list):
                problems.append(f"the preview of {url!r} has no `blocks`")
            else:
                problems += _block_problems(preview["blocks"], MAX_BLOCKS)
        return problems

    def _token_refusal(self, method: str, authorization: str) -> str | None:
        """Why Slack would refuse the token, or None: Socket Mode URLs take the app token, all else the bot's."""
        if method != "apps.connections.open":
            return None if authorization == f"Bearer {self.token}" else "invalid_auth"
        if authorization.startswith("Bearer xoxb-"):
            return "not_allowed_token_type"
        return None if authorization == f"Bearer {self.app_token}" else "invalid_auth"

    def _state_refusal(self, method: str, body: dict) -> str | None:
        """What Slack refuses for the state it keeps: a stale view hash, an unknown view or thread."""
        if method == "views.update":
            latest = self._view_hashes.get(str(body.get("view_id")))
            if latest is None:
                return "not_found"
            return "hash_conflict" if body.get("hash") not in (None, latest) else None
        if method == "conversations.replies" and (body.get("channel"), body.get("ts")) not in self._threads:
            return "thread_not_found"
        return None

    @staticmethod
    def _refusal(kind: str, error: str) -> tuple[int, dict, Any]:
        """Web API methods answer 200 with `ok: false`; response_urls answer 4xx with the error as text."""
        if kind == "response_url":
            return 400, {}, error
        return 200, {}, {"ok": False, "error": error}

    def _success(self, method: str, body: dict) -> dict:
        if method == "auth.test":
            return {
                "ok": True,
                "url": "https://fake.slack.com/",
                "team": "Fake Team",
                "user": "notesbot",
                "team_id": self.team_id,
                "user_id": self.bot_user_id,
                "bot_id": self.bot_id,
                "is_enterprise_install": False,
            }
        if method == "apps.connections.open":
            if self.socket_mode_url is None:
                self.violations.append("apps.connections.open: no Socket Mode endpoint attached to the fake")
                return {"ok": False, "error": "internal_error"}
            return {"ok": True, "url": self.socket_mode_url()}
        ts = f"{1_700_000_000 + next(self._ts)}.000100"
        if method == "chat.postMessage":
            message = {k: body.get(k) for k in ("text", "blocks", "thread_ts") if k in body}
            self._keep(body, message | {"ts": ts})
            return {"ok": True, "channel": body.get("channel"), "ts": ts, "message": message | {"ts": ts}}
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": ts}
        if method == "views.publish":
            return {"ok": True, "view": (body.get("view") or {}) | {"id": "V0000001"}}
        if method in {"views.open", "views.update"}:
            return self._view_answer(method, body)
        if method == "conversations.replies":
            return self._replies(body)
        if method == "conversations.history":
            return self._channel_history(body)
        if method == "chat.unfurl":
            self._previews.setdefault(_unfurled_message(body), {}).update(_unfurls(body))
        return {"ok": True}

    def _keep(self, body: dict, message: dict[str, Any]) -> None:
        """A posted message, where conversations.replies and conversations.history find it."""
        kept = {"type": "message", "user": self.bot_user_id, "bot_id": self.bot_id} | message
        if body.get("metadata"):
            kept["metadata"] = body["metadata"]
        channel, thread_ts = str(body.get("channel")), body.get("thread_ts")
        if thread_ts:
            self._threads.setdefault((channel, str(thread_ts)), []).append(kept)
        else:
            self._history.setdefault(channel, []).append(kept)

    def _keep_in_channel(self, path: str, body: dict) -> None:
        """A response_url post `in_channel` (not a replacement or a deletion), kept as a message of the response_url's
        channel, where conversations.history finds it."""
        channel = self._response_channels.get(path)
        replaces = body.get("replace_original") or body.get("delete_original")
        if channel is None or body.get("response_type") != "in_channel" or replaces:
            return
        ts = f"{1_700_000_000 + next(self._ts)}.000100"
        self._keep({"channel": channel, "metadata": body.get("metadata")}, {"text": body.get("text"), "ts": ts})

    def _view_answer(self, method: str, body: dict) -> dict:
        """The modal as Slack keeps it: its id, and a new hash for each version."""
        view_id = str(body["view_id"]) if method == "views.update" else f"V{next(self._views):08d}"
        self._view_hashes[view_id] = view_hash = f"{next(self._ts)}.hash"
        return {"ok": True, "view": body["view"] | {"id": view_id, "hash": view_hash}}

    def _replies(self, body: dict) -> dict:
        messages = _as_read(self._threads[(body["channel"], body["ts"])], body)
        limit = int(body.get("limit") or len(messages))
        return {"ok": True, "messages": messages[:limit], "has_more": limit < len(messages)}

    def _channel_history(self, body: dict) -> dict:
        oldest = float(body.get("oldest") or 0)
        after = [m for m in self._history.get(str(body["channel"]), []) if float(m["ts"]) > oldest]
        messages = _as_read(list(reversed(after)), body)
        limit = int(body.get("limit") or 100)
        return {"ok": True, "messages": messages[:limit], "has_more": limit < len(messages)}


def _unfurls(body: dict) -> Any:
    """A chat.unfurl's `unfurls`, as sent (form posts carry it as JSON)."""
    unfurls = body.get("unfurls")
    if isinstance(unfurls, str):
        with contextlib.suppress(ValueError):
            return json.loads(unfurls)
    return unfurls


def _unfurled_message(body: dict) -> str:
    """The message a chat.unfurl previews links of: "channel ts", or its `unfurl_id`."""
    return f"{body['channel']} {body['ts']}" if body.get("channel") and body.get("ts") else str(body["unfurl_id"])


def _as_read(messages: list[dict[str, Any]], body: dict) -> list[dict[str, Any]]:
    """Messages as a conversations method answers: their metadata only when `include_all_metadata` asks for it."""
    if body.get("include_all_metadata") in (True, "1", "true"):
        return messages
    return [{k: v for k, v in m.items() if k != "metadata"} for m in messages]


def _metadata_problems(body: dict) -> list[str]:
    """Slack's `invalid_metadata`: metadata needs an `event_type` and an `event_payload` of scalars."""
    if not body.get("metadata"):
        return []
    metadata = body["metadata"]
    payload = metadata.get("event_payload") if isinstance(metadata, dict) else None
    if not (isinstance(metadata, dict) and isinstance(metadata.get("event_type"), str) and isinstance(payload, dict)):
        return ["invalid_metadata: give an `event_type` and an `event_payload` object"]
    odd = [key for key, value in payload.items() if not isinstance(value, str | int | float | bool)]
    return [f"invalid_metadata: event_payload values must be strings, numbers or booleans ({odd})"] if odd else []


def _validate(method: str, body: dict) -> list[str]:
    problems = []
    is_message = method in MESSAGE_METHODS or (method == "response_url" and not body.get("delete_original"))
    if is_message and not (isinstance(body.get("text"), str) and body["text"].strip()):
        problems.append("no plain-text fallback `text`")
    if body.get("link_names") or body.get("parse") == "full":
        problems.append("link_names / parse=full would turn text into pings")
    if method == "chat.postEphemeral" and not body.get("user"):
        problems.append("chat.postEphemeral without `user`")
    if method in {"chat.postMessage", "chat.postEphemeral"} and not body.get("channel"):
        problems.append("no `channel`")
    blocks, limit = body.get("blocks"), MAX_BLOCKS
    if method == "views.publish":
        view = body.get("view")
        if not isinstance(view, dict) or not body.get("user_id"):
            return [*problems, "views.publish needs `user_id` and a `view`"]
        blocks, limit = view.get("blocks"), MAX_VIEW_BLOCKS
    if method in {"views.open", "views.update"}:
        problems += _view_problems(method, body)
        blocks, limit = (body.get("view") or {}).get("blocks"), MAX_VIEW_BLOCKS
    if method in ASSISTANT_FIELDS:
        problems += _assistant_problems(method, body)
    if method == "conversations.replies" and not (body.get("channel") and body.get("ts")):
        problems.append("conversations.replies needs `channel` and `ts`")
    if method == "conversations.history" and not body.get("channel"):
        problems.append("conversations.history needs `channel`")
    if method in {"chat.postMessage", "response_url"}:  # response_url posts take metadata too (bolt-js #1819)
        problems += _metadata_problems(body)
    return problems + _block_problems(blocks, limit)


def _view_problems(method: str, body: dict) -> list[str]:
    """A modal Slack would refuse: no trigger (views.open) or view id (views.update), a bad title, input
    blocks without a submit button."""
    problems = []
    if method == "views.open" and not body.get("trigger_id"):
        problems.append("views.open needs a `trigger_id`")
    if method == "views.update" and not body.get("view_id"):
        problems.append("views.update needs a `view_id`")
    view = body.get("view")
    if not isinstance(view, dict) or view.get("type") != "modal":
        return [*problems, "the view is not a modal"]
    title = (view.get("title") or {}).get("text", "")
    if not 1 <= len(title) <= VIEW_TITLE_LIMIT:
        problems.append(f"a modal title of {len(title)} characters (1 to {VIEW_TITLE_LIMIT})")
    if any(block.get("type") == "input" for block in view.get("blocks") or []) and not view.get("submit"):
        problems.append("a modal with an input block needs `submit`")
    return problems


def _assistant_problems(method: str, body: dict) -> list[str]:
    """An assistant.threads call without its thread or its value (one to four prompts, each a title and a
    message)."""
    field = ASSISTANT_FIELDS[method]
    problems = [f"no `{name}`" for name in ("channel_id", "thread_ts") if not body.get(name)]
    if field not in body or (field == "title" and not body[field]):  # a status of "" clears it
        problems.append(f"no `{field}`")
    prompts = body.get("prompts")
    if method.endswith("setSuggestedPrompts") and isinstance(prompts, list):
        if not 1 <= len(prompts) <= MAX_SUGGESTED_PROMPTS:
            problems.append(f"{len(prompts)} suggested prompts (1 to {MAX_SUGGESTED_PROMPTS})")
        if not all(isinstance(p, dict) and p.get("title") and p.get("message") for p in prompts):
            problems.append("a suggested prompt without a title or a message")
    return problems


def _block_problems(blocks: Any, limit: int) -> list[str]:
    if blocks is None:
        return []
    if not isinstance(blocks, list):
        return ["`blocks` is not a list"]
    problems = [f"{len(blocks)} blocks (at most {limit})"] if len(blocks) > limit else []
    for block in blocks:
        if not isinstance(block, dict) or "type" not in block:
            problems.append(f"block without a type: {block!r:.80}")
        elif block["type"] == "section":
            text = (block.get("text") or {}).get("text", "")
            if len(text) > SECTION_LIMIT:
                problems.append(f"section text of {len(text)} characters (at most {SECTION_LIMIT})")
    return problems


def _parse_body(raw: bytes, content_type: str) -> dict[str, Any]:
    if not raw:
        return {}
    if content_type.startswith("application/json"):
        parsed = json.loads(raw)
        return parsed if isinstance(parsed, dict) else {"_": parsed}
    form = {k: v[-1] for k, v in parse_qs(raw.decode("utf-8"), keep_blank_values=True).items()}
    for key in ("blocks", "view", "attachments", "metadata"):  # form posts carry these as JSON strings
        if isinstance(form.get(key), str):
            with contextlib.suppress(ValueError):
                form[key] = json.loads(form[key])
    return form


def _handler_for(fake: FakeSlack) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            if len(raw) < length:
                # The sender died between its headers and its body (a killed process): like any HTTP server,
                # Slack never sees an incomplete request, so it is neither answered nor recorded.
                self.close_connection = True
                return
            headers = {k.lower(): v for k, v in self.headers.items()}
            try:
                body = _parse_body(raw, headers.get("content-type", ""))
            except ValueError:
                self._send(400, {}, {"ok": False, "error": "invalid_json"})
                return
            if self.path.startswith("/api/"):
                answer = fake._answer("api", self.path.removeprefix("/api/").split("?")[0], self.path, body, headers)
            elif self.path.startswith("/response/"):
                answer = fake._answer("response_url", "response_url", self.path, body, headers)
            else:
                answer = (404, {}, {"ok": False, "error": "unknown_path"})
            self._send(*answer)

        def _send(self, status: int, headers: dict[str, str], payload: Any) -> None:
            data = payload.encode() if isinstance(payload, str) else json.dumps(payload).encode()
            self.send_response(status)
            kind = "text/plain" if isinstance(payload, str) else "application/json"
            self.send_header("Content-Type", f"{kind}; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: object) -> None:
            """Quiet: the calls are recorded, not printed."""

    return Handler
