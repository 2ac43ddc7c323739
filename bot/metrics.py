"""What the bot is doing, for Prometheus (`GET /metrics`) and for the logs (one line per request).

Every metric lives in the `Metrics` object's own `CollectorRegistry`, not prometheus_client's global
one, so that each server (and each test) counts only its own requests.

Slack Web API errors and retries are counted by retry handlers that slack_sdk's `WebClient` calls
on every response (Bolt copies them into the client it makes for each request): see `counted`.

The request log line is JSON with a fixed set of fields; nothing from a request's headers or body
other than those fields is ever logged, and a value that looks like a Slack token is masked anyway.
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from urllib.parse import urlparse

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from slack_sdk.http_retry import HttpRequest, HttpResponse, RetryHandler, RetryState

from bot.engine.live import LiveVault

request_log = logging.getLogger("notesbot.requests")

CONTENT_TYPE = CONTENT_TYPE_LATEST
# Answers should come well within Slack's 3 s; the buckets resolve the range that matters.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0)
_TOKEN_LIKE = re.compile(r"\b(xox[a-z]-|xapp-|xoxe\.)[A-Za-z0-9-]+")


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter(
            "notesbot_requests", "Requests handled, by kind and outcome", ["kind", "outcome"], registry=r
        )
        self.latency = Histogram(
            "notesbot_answer_latency_seconds",
            "Time from receiving a request to having answered it, by kind",
            ["kind"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.searches = Counter("notesbot_searches", "Searches, by whether they found anything", ["found"], registry=r)
        self.digest_posts = Counter("notesbot_digest_posts", "Digest posts made", registry=r)
        self.digest_failures = Counter("notesbot_digest_failures", "Digest posts that failed", registry=r)
        self.slack_api_errors = Counter(
            "notesbot_slack_api_errors", "Slack Web API calls answered with an error", ["method", "error"], registry=r
        )
        self.slack_api_retries = Counter(
            "notesbot_slack_api_retries", "Slack Web API calls repeated, by reason", ["method", "reason"], registry=r
        )

    def exposition(self) -> bytes:
        """The metrics in Prometheus' text format (serve with `CONTENT_TYPE`)."""
        return generate_latest(self.registry)

    def record_search(self, hits: int) -> None:
        self.searches.labels(found="yes" if hits else "no").inc()

    def record_digest(self, posted: bool) -> None:
        (self.digest_posts if posted else self.digest_failures).inc()

    def track_index(self, live: LiveVault, clock: Callable[[], float] = time.time) -> None:
        """Index size and age, read from `live`'s current snapshot whenever metrics are scraped."""
        gauges = {
            "notesbot_index_notes": ("Notes served", lambda: live.snapshot.note_count),
            "notesbot_index_sections": ("Sections served", lambda: live.snapshot.section_count),
            "notesbot_index_age_seconds": (
                "Seconds since the served index was built",
                lambda: clock() - live.snapshot.loaded_at,
            ),
            "notesbot_index_reloads": ("Re-indexes after notes changed", lambda: live.reloads),
            "notesbot_index_reload_failures": (
                "Re-indexes that failed (the previous index kept serving)",
                lambda: live.failures,
            ),
        }
        for name, (documentation, read) in gauges.items():
            Gauge(name, documentation, registry=self.registry).set_function(read)

    def track_answers(self, read: Callable[[], dict[str, int]], statuses: Sequence[str]) -> None:
        """The acknowledged questions the shared database holds, by status, read from `read` whenever metrics are
        scraped (every status shown, 0 when none): answers given up (`unknown`, `expired`, `dropped`) are what an
        operator alerts on."""
        self.registry.register(_AnswersCollector(read, statuses))

    @contextmanager
    def request(self, kind: str, request_id: str | None = None) -> Iterator[RequestRecord]:
        """Count, time and log one request; the block sets `.outcome` (an exception makes it "error")."""
        record = RequestRecord(request_id or new_request_id(), kind)
        started = time.perf_counter()
        try:
            yield record
        except BaseException:
            record.outcome = "error"
            raise
        finally:
            seconds = time.perf_counter() - started
            self.requests.labels(kind=kind, outcome=record.outcome).inc()
            self.latency.labels(kind=kind).observe(seconds)
            log_request(record, seconds)

    def counted(self, handlers: Sequence[RetryHandler]) -> list[RetryHandler]:
        """`handlers` for `WebClient(retry_handlers=...)`, with every error and every repeat counted.

        An observer goes first: slack_sdk shows it each response and exception before the others,
        and it never asks for a retry itself."""
        return [_ErrorCounter(self), *(_CountedRetry(h, _retry_reason(h), self) for h in handlers)]


@dataclass(slots=True)
class RequestRecord:
    request_id: str
    kind: str
    outcome: str = "ok"
    fields: dict[str, str | int | float | bool | None] = field(default_factory=dict)


def new_request_id() -> str:
    return uuid.uuid4().hex[:16]


def log_request(record: RequestRecord, seconds: float) -> None:
    """One JSON line: request id, kind, latency, outcome and the record's plain extra fields."""
    line = {
        "request_id": record.request_id,
        "kind": record.kind,
        "latency_ms": round(seconds * 1000, 1),
        "outcome": record.outcome,
    }
    for key, value in record.fields.items():
        line.setdefault(key, _masked(value) if isinstance(value, str) else value)
    request_log.info("%s", json.dumps(line, ensure_ascii=False, sort_keys=False))


def _masked(text: str) -> str:
    return _TOKEN_LIKE.sub(lambda m: m.group(1) + "***", text)


def _method(request: HttpRequest) -> str:
    """The API method of a request (`chat.postMessage`), never its arguments or headers."""
    return urlparse(request.url).path.rsplit("/", 1)[-1] or "unknown"


class _AnswersCollector(Collector):
    def __init__(self, read: Callable[[], dict[str, int]], statuses: Sequence[str]) -> None:
        self._read = read
        self._statuses = statuses

    def collect(self) -> Iterator[GaugeMetricFamily]:
        try:
            counts = self._read()
        except Exception as error:  # a scrape must not fail with the database: the metric is left out this time
            logging.getLogger(__name__).warning("could not count the recorded answers: %s", type(error).__name__)
            return
        family = GaugeMetricFamily(
            "notesbot_answers",
            "Acknowledged questions recorded (open, or finished within the last hour), by status",
            labels=["status"],
        )
        for status in self._statuses:
            family.add_metric([status], counts.get(status, 0))
        yield family


class _ErrorCounter(RetryHandler):
    """Sees every response first and counts the errors; never asks for a retry itself."""

    def __init__(self, metrics: Metrics) -> None:
        super().__init__(max_retry_count=0)
        self._metrics = metrics

    def can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        reason = _error_of(response, error)
        if reason is not None:
            self._metrics.slack_api_errors.labels(method=_method(request), error=reason).inc()
        return False


def _error_of(response: HttpResponse | None, error: Exception | None) -> str | None:
    if error is not None and response is None:
        return type(error).__name__
    if response is None:
        return None
    if response.status_code >= 400:
        return f"http_{response.status_code}"
    body = response.body if isinstance(response.body, dict) else {}
    if body.get("ok") is False:
        return str(body.get("error", "unknown"))[:64]
    return None


def _retry_reason(handler: RetryHandler) -> str:
    """`RateLimitErrorRetryHandler` -> "rate_limit_error": what the repeats of `handler` are for."""
    name = type(handler).__name__.removesuffix("RetryHandler")
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


class _CountedRetry(RetryHandler):
    """A slack_sdk retry handler whose repeats are counted under `reason`."""

    def __init__(self, inner: RetryHandler, reason: str, metrics: Metrics) -> None:
        super().__init__(max_retry_count=inner.max_retry_count, interval_calculator=inner.interval_calculator)
        self._inner = inner
        self._reason = reason
        self._metrics = metrics

    def can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        return self._inner.can_retry(state=state, request=request, response=response, error=error)

    def prepare_for_next_attempt(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        self._metrics.slack_api_retries.labels(method=_method(request), reason=self._reason).inc()
        self._inner.prepare_for_next_attempt(state=state, request=request, response=response, error=error)
