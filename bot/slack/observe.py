"""Each Slack request counted, timed to its answer, and logged in one line; each question kept for `notesbot report`.

Bolt acknowledges a request and runs its listener in a worker thread, and the listener hands the
slow work (search, post) on to the app's answer pool: the answer's latency ends when that work is
done, not when the HTTP response leaves. A global middleware stamps the request when it arrives; the
listener runner's start and completion hooks (around the listener, in Bolt's worker thread) and the
answer pool's wrapper (around each piece of work handed on) make the request the current one of the
thread doing its work, and the request is recorded when the last of those is done. The searcher
handed to the listeners is wrapped so that the first search of a request sets its outcome
("answered" or "nothing_found"), counts it, and stores the question in the `queries` table.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Executor, Future
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from slack_bolt import App, BoltRequest, BoltResponse
from slack_bolt.listener.listener_completion_handler import ListenerCompletionHandler
from slack_bolt.listener.listener_start_handler import ListenerStartHandler
from slack_bolt.listener.thread_runner import ThreadListenerRunner
from sqlalchemy import Engine, insert
from sqlalchemy.exc import SQLAlchemyError

from bot.engine.scope import Preference
from bot.engine.search import Hit, Notes, Searcher
from bot.engine.spelling import QueryTerms
from bot.metrics import Metrics, RequestRecord, log_request, new_request_id
from bot.storage import queries

log = logging.getLogger(__name__)

CONTEXT_KEY = "notesbot_request"
# Requests in which someone asks a question: their first search goes to the `queries` table. ("message" also
# covers messages in assistant threads; "message_action" is "Find in notes"; "view_action" an Enter in the
# search modal, "view_submission" its Search button.)
ASKING_KINDS = {"slash_command", "app_mention", "message", "message_action", "view_action", "view_submission"}


@dataclass(slots=True)
class ObservedRequest:
    record: RequestRecord
    team_id: str | None
    arrived: float  # time.perf_counter() when the request reached the app
    searched: bool = False
    working: int = 0  # pieces of its work started and not yet done (the listener, work handed on)
    finished: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)


class Observer:
    """Counts, times and logs requests into `metrics`; keeps questions in `engine`'s `queries` table."""

    def __init__(self, metrics: Metrics, engine: Engine | None, clock: Callable[[], datetime]) -> None:
        self.metrics = metrics
        self.engine = engine
        self.clock = clock
        self._current = threading.local()

    def instrument(self, app: App) -> None:
        """Stamp every request on arrival and record it when its listener is done."""
        runner = app.listener_runner
        if not isinstance(runner, ThreadListenerRunner):
            # The start and completion handlers hooked here are those of Bolt's thread runner (its own
            # Django adapter swaps them the same way, after the same check): if an upgrade changes the
            # runner, fail at start rather than silently stop measuring.
            raise RuntimeError(f"slack_bolt's listener runner is a {type(runner).__name__}, not a ThreadListenerRunner")
        app.use(self._arrived)
        runner.listener_start_handler = _Started(self)
        runner.listener_completion_handler = _Completed(self)

    def answer_pool(self, inner: Executor) -> Executor:
        """`inner` as the app's answer pool: work handed to it counts as its request's until done."""
        return _ObservedPool(inner, self)

    def searcher(self, inner: Searcher) -> Searcher:
        """`inner` as the listeners should see it: each search counted and attributed to its request."""
        return _ObservedSearcher(inner, self)  # type: ignore[return-value]

    def after_dispatch(self, request: BoltRequest, status: int, arrived: float) -> None:
        """Record an HTTP request that no listener will record: one Bolt answered itself (no listener
        matched: 404), or one refused before the middleware (a bad signature: 401)."""
        observed = request.context.get(CONTEXT_KEY)
        if isinstance(observed, ObservedRequest):
            if status == 404:  # no listener matched: none will ever record it
                observed.record.outcome = "unhandled"
                self._begin(observed)
                self._end(observed)
            return
        kind = describe(request.body)[0] if status < 400 else "unverified"
        outcome = "refused" if status in (401, 403) else ("ok" if status < 400 else f"http_{status}")
        self._record(ObservedRequest(RequestRecord(new_request_id(), kind, outcome), None, arrived))

    # --- hooks ---

    def _arrived(self, req: BoltRequest, resp: BoltResponse, next: Callable[[], None]) -> None:
        self._stamp(req)
        next()

    def _stamp(self, req: BoltRequest) -> ObservedRequest:
        kind, request_id, fields = describe(req.body)
        retry = req.headers.get("x-slack-retry-num")  # Slack's re-deliveries say which attempt they are
        if retry:
            fields["retry"] = retry[0]
        record = RequestRecord(request_id or new_request_id(), kind, fields=fields)
        observed = req.context[CONTEXT_KEY] = ObservedRequest(record, req.context.team_id, time.perf_counter())
        return observed

    def _listener_started(self, request: BoltRequest) -> None:
        observed = request.context.get(CONTEXT_KEY)
        if observed is None:
            # A middleware registered before ours ran the listener itself (Bolt's Assistant middleware, which
            # answers assistant threads without passing them on): the request is stamped now.
            observed = self._stamp(request)
        if isinstance(observed, ObservedRequest):
            self._current.request = observed
            self._begin(observed)

    def _listener_done(self, request: BoltRequest) -> None:
        self._current.request = None
        observed = request.context.get(CONTEXT_KEY)
        if isinstance(observed, ObservedRequest):
            self._end(observed)

    def _handing_on(self) -> ObservedRequest | None:
        """The current thread's request, which is about to hand a piece of work on."""
        observed = getattr(self._current, "request", None)
        if isinstance(observed, ObservedRequest):
            self._begin(observed)
            return observed
        return None

    def _work_on(self, observed: ObservedRequest, work: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Run a piece of `observed`'s work in this thread, as its current request."""
        self._current.request = observed
        try:
            return work(*args, **kwargs)
        except BaseException:
            observed.record.outcome = "error"
            raise
        finally:
            self._current.request = None
            self._end(observed)

    def _begin(self, observed: ObservedRequest) -> None:
        with observed.lock:
            observed.working += 1

    def _end(self, observed: ObservedRequest) -> None:
        """One piece done; the last one records the request (once)."""
        with observed.lock:
            observed.working -= 1
            if observed.working > 0 or observed.finished:
                return
            observed.finished = True
        self._record(observed)

    def _record(self, observed: ObservedRequest) -> None:
        seconds = time.perf_counter() - observed.arrived
        record = observed.record
        self.metrics.requests.labels(kind=record.kind, outcome=record.outcome).inc()
        self.metrics.latency.labels(kind=record.kind).observe(seconds)
        log_request(record, seconds)

    def _searched(self, query: str, hits: list[Hit]) -> None:
        self.metrics.record_search(len(hits))
        observed = getattr(self._current, "request", None)
        if not isinstance(observed, ObservedRequest) or observed.searched:
            return
        observed.searched = True
        observed.record.outcome = "answered" if hits else "nothing_found"
        observed.record.fields["hits"] = len(hits)
        if observed.record.kind in ASKING_KINDS:
            self._keep_question(observed, query, hits)

    def _keep_question(self, observed: ObservedRequest, query: str, hits: list[Hit]) -> None:
        if self.engine is None:
            return
        top = hits[0] if hits else None
        row = {
            "asked_at": self.clock(),
            "team_id": observed.team_id,
            "kind": observed.record.kind[:16],
            "query": query,
            "hits": len(hits),
            "top_score": top.score if top else None,
            "top_note": top.note if top else None,
            "top_heading": top.heading if top else None,
        }
        try:
            with self.engine.begin() as connection:
                connection.execute(insert(queries).values(row))
        except SQLAlchemyError as error:  # the answer matters more than its record
            log.warning("could not record a question for the report: %s", error.__class__.__name__)


def describe(body: dict[str, Any]) -> tuple[str, str | None, dict[str, Any]]:
    """A Slack payload's kind, its id (event id or trigger id) and a few safe fields for the log line."""
    if body.get("command"):
        return "slash_command", body.get("trigger_id"), {"team": body.get("team_id")}
    if body.get("type") == "event_callback":
        event = body.get("event") or {}
        return str(event.get("type") or "event"), body.get("event_id"), {"team": body.get("team_id")}
    if body.get("type") == "block_actions":
        action = (body.get("actions") or [{}])[0]
        fields = {"team": (body.get("team") or {}).get("id"), "action": action.get("action_id")}
        in_view = (body.get("container") or {}).get("type") == "view"
        return "view_action" if in_view else "button", body.get("trigger_id"), fields
    if body.get("type") in {"message_action", "shortcut", "view_submission"}:
        return str(body["type"]), body.get("trigger_id"), {"team": (body.get("team") or {}).get("id")}
    return str(body.get("type") or "other"), None, {}


class _Started(ListenerStartHandler):
    def __init__(self, observer: Observer) -> None:
        self._observer = observer

    def handle(self, request: BoltRequest, response: BoltResponse | None) -> None:
        self._observer._listener_started(request)


class _Completed(ListenerCompletionHandler):
    def __init__(self, observer: Observer) -> None:
        self._observer = observer

    def handle(self, request: BoltRequest, response: BoltResponse | None) -> None:
        self._observer._listener_done(request)


class _ObservedPool(Executor):
    """An executor whose work counts as the request that handed it on, until it is done."""

    def __init__(self, inner: Executor, observer: Observer) -> None:
        self._inner = inner
        self._observer = observer

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        observed = self._observer._handing_on()
        if observed is None:
            return self._inner.submit(fn, *args, **kwargs)
        return self._inner.submit(self._observer._work_on, observed, fn, *args, **kwargs)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self._inner.shutdown(wait=wait, cancel_futures=cancel_futures)


class _ObservedSearcher:
    """A Searcher whose searches report to the observer; everything else is the inner searcher's."""

    def __init__(self, inner: Searcher, observer: Observer) -> None:
        self._inner = inner
        self._observer = observer

    def search(
        self, query: str, limit: int = 5, within: Notes | None = None, prefer: Preference | None = None
    ) -> list[Hit]:
        return self.search_terms(self._inner.read_query(query), limit, within, prefer)

    def search_terms(
        self, query_terms: QueryTerms, limit: int = 5, within: Notes | None = None, prefer: Preference | None = None
    ) -> list[Hit]:
        """`Searcher.search_terms`, observed."""
        hits = self._inner.search_terms(query_terms, limit, within, prefer)
        self._observer._searched(query_terms.query, hits)
        return hits

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)
