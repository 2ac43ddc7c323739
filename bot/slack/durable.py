"""Deferred answers that outlive their process: recorded before the ack, answered once, by another process if need be.

A listener acknowledges and hands its slow work on with `deps.later(work, deps, body, client)`. Each piece of such
work is a module-level function `work(deps, body, client)` registered once under a stable name with
`@deferred("name")`, so that the stored (name, body) can be run again by any process. `DurableAnswers.submit`
records it in the shared database (bot.slack.pending) before the listener returns, and the Bolt app sends the ack
only after its listener has returned (`process_before_response`, bot.slack.app): an acknowledged question is on disk.
(Bolt's `ack()` only sets the response, bolt-python #381; recording first is the "received and written down, then
acknowledged" pattern of bolt-python #483.) The record is also its delivery's claim, under Slack's id for it (an
event's event_id; a command's or a button's trigger_id): a second delivery (an event Slack re-delivers under a new
envelope, as in Socket Mode's repeated `app_mention`s of bolt-js #2487 and #1666; a request a proxy re-sends to
another replica; in any process) finds it and is not answered again.

The work then runs on the answer pool, under a post watch (bot.slack.post_watch): before each post that answers
the row is marked `posting` (compare and swap on its owner: a row another process took over is not posted), after a
post known to have failed it is `pending` again, and when the work returns it is `done`.

Every process heartbeats (`start`). Every second it also claims the rows left `pending` by a process that stopped
heartbeating and answers them, once: on PostgreSQL the claim is `SELECT ... FOR UPDATE SKIP LOCKED`, so that
survivors share a dead process's questions without waiting on each other; on SQLite the one process (restarted)
claims its predecessor's. A row whose dead owner had attempted a post may have been answered: a post to Slack has no
idempotency key. Where its work can look for its answer in Slack (`@deferred(name, answered=...)`: the replies in a
conversation, which carry metadata naming their question), the row is claimed like a pending one and its answer
looked for first: found, it is `done`; known absent, the question is answered; where Slack will not say, it is
settled `unknown`. Where sending its posts again shows nothing twice to anyone but its asker (`@deferred(name,
repeatable=True)`): each is the asker's alone (a response_url's ephemeral reply, or its replacement) or replaces what
an earlier one showed (a link's preview, App Home), nothing can read the post back, but a second copy costs at most
a repeat to that person: the question is answered again, which beats leaving it unanswered. Any other such row (work
registered with neither) is settled as `unknown` and logged. A row past its time (a response_url takes posts for 30
minutes) is settled as `expired`, logged.

On SIGTERM (`drain`), no more orphans are claimed and the pool is waited for, up to the grace period; `stop` then
hands whatever is still pending to the other processes (its rows released) and stops heartbeating.

Why not a queue library such as procrastinate: it runs on PostgreSQL only (SQLite must work the same, in one
process), its jobs are deferred in a transaction of their own rather than as one INSERT that is also the event's
claim, and its retry of a stalled job would run a job again whose post may have arrived: the attempt marks that
prevent that would still be ours.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar

from slack_bolt.request.internals import extract_enterprise_id, extract_is_enterprise_install, extract_team_id
from slack_sdk import WebClient
from slack_sdk.oauth.installation_store import InstallationStore
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from bot.slack import pending
from bot.slack.pending import Pending, Status
from bot.slack.post_watch import Outcome, watched_copy, watching

log = logging.getLogger(__name__)

# A response_url takes posts for 30 minutes; an answer in a thread later than that has lost its moment too.
ANSWER_WINDOW = timedelta(minutes=30)
HEARTBEAT_SECONDS = 1.0
# Ten heartbeats missed: a process slowed by a busy machine or a long pause is not taken for dead.
DEAD_AFTER = timedelta(seconds=10)
# A question is anyone's only after its owner had a few seconds (a process may record before its first heartbeat).
STALE_AFTER = timedelta(seconds=5)
# Finished rows are kept this long: an event's row is its claim, and Slack's last retry comes about 5 minutes after.
MEMORY = timedelta(hours=1)
FORGET_EVERY = timedelta(minutes=1)
# Rows claimed at once: a dead process's questions are shared among the survivors, not all taken by the first.
CLAIM_BATCH = 20
# What the log says of a post attempted by a process that stopped, once its answer was looked for in Slack
FOUND = "its process stopped after attempting a post, which arrived: not posted again"
NOT_FOUND = "its process stopped as it attempted a post, which is not in Slack"
REPEATED = "its process stopped as it attempted a post that nothing can read back and no one else sees twice"

Work = Callable[[Any, dict[str, Any], WebClient], None]  # work(deps, body, client); deps is a ListenerDeps
# answered(deps, body, client): whether the work's answer is in Slack already; None when Slack will not say
Answered = Callable[[Any, dict[str, Any], WebClient], bool | None]
W = TypeVar("W", bound=Callable[..., None])
ClientFor = Callable[[dict[str, Any]], WebClient]  # the Web API client of the workspace a payload came from

_registered: dict[str, Callable[..., None]] = {}
_names: dict[Callable[..., None], str] = {}
_answered: dict[str, Answered] = {}


def deferred(name: str, answered: Answered | None = None, repeatable: bool = False) -> Callable[[W], W]:
    """Register `work(deps, body, client)` under `name`, so that a stored question can be answered again by any
    process. The name is stored with each question: keep it when the function moves or is renamed. `answered`,
    when the work's answer can be read back from Slack, tells whether a post whose process stopped arrived;
    `repeatable`, when every post of the work shows to its asker alone or replaces what an earlier one showed, has
    such a question answered again."""
    if repeatable and answered is not None:
        raise ValueError(f"deferred work {name!r}: a repeatable answer cannot also be looked for")

    def register(work: W) -> W:
        if _registered.get(name, work) is not work:
            raise ValueError(f"deferred work {name!r} is registered twice")
        _registered[name] = work
        _names[work] = name
        if answered is not None or repeatable:
            _answered[name] = answered or _unseen
        return work

    return register


def _unseen(_deps: Any, _body: dict[str, Any], _client: WebClient) -> bool:
    """Whether a repeatable answer arrived: nothing can tell, and a second copy shows nothing twice to anyone but its
    asker, so it is taken as not (the `answered` of `@deferred(repeatable=True)` work)."""
    return False


def name_of(work: Callable[..., None]) -> str:
    try:
        return _names[work]
    except KeyError:
        raise TypeError(
            f"{work.__module__}.{work.__qualname__} is handed to deps.later without a name: register it with "
            "@deferred('a-stable-name') (bot.slack.durable), so that it can be answered again after a crash"
        ) from None


def registered_work(name: str) -> Callable[..., None] | None:
    return _registered.get(name)


class AnswerTakenOver(BaseException):
    """The row is no longer this process's to post (another process took it over, or it expired).

    A BaseException, so that it passes through the work's own `except Exception` (which would apologise, with a
    post that must not happen either) up to the runner."""


@dataclass
class _Job:
    """One recorded question being answered here, and what this process last wrote of it."""

    id: int
    work: str
    status: Status = Status.PENDING
    landed: bool = False  # a post of this run arrived, or may have


@dataclass(frozen=True, slots=True)
class _Task:
    """A piece of deferred work and what it is run with; `answered` for a question whose stopped process attempted its
    post, to look for that post first."""

    work: Callable[..., None]
    deps: Any
    body: dict[str, Any]
    client: WebClient
    answered: Answered | None = None


@dataclass
class _Watch:
    """The post watch of one job: the row is marked before a post that answers, and after it fails."""

    answers: DurableAnswers
    job: _Job

    def before(self, what: str) -> None:
        if self.job.status is Status.POSTING:
            return
        try:
            ours = pending.mark_posting(self.answers.engine, self.job.id, self.answers.worker)
        except SQLAlchemyError as error:  # better a rare double answer than silence while the database is away
            log.error("answer %d: could not mark its %s attempt (%s); posting", self.job.id, what, type(error).__name__)
            ours = True
        if not ours:
            raise AnswerTakenOver(f"answer {self.job.id} is no longer this process's to post")
        self.job.status = Status.POSTING

    def after(self, what: str, outcome: Outcome, detail: str) -> None:
        if outcome is Outcome.UNKNOWN:
            log.warning(
                "answer %d: %s outcome unknown (%s); counted as posted, not repeated", self.job.id, what, detail
            )
        if outcome is not Outcome.FAILED:
            self.job.landed = True
            return
        if self.job.landed or self.job.status is not Status.POSTING:
            return
        try:  # nothing of this run arrived: after a crash from here, answering again shows nothing twice
            if pending.mark_post_failed(self.answers.engine, self.job.id, self.answers.worker):
                self.job.status = Status.PENDING
        except SQLAlchemyError as error:
            log.error("answer %d: could not note its failed %s (%s)", self.job.id, what, type(error).__name__)


@dataclass
class DurableAnswers:
    """Records deferred work in `engine` and runs it on `pool`; replays what stopped processes left (`start`)."""

    engine: Engine
    pool: Executor
    clock: Callable[[], datetime]
    worker: str = field(default_factory=lambda: f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}")

    def __post_init__(self) -> None:
        self._running = 0  # jobs handed to the pool and not finished
        self._idle = threading.Condition()
        self._claiming = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._replay: tuple[Any, ClientFor] | None = None
        self._forgotten_at: datetime | None = None

    # --- the ack path ---

    def submit(self, work: Callable[..., None], deps: Any, body: dict[str, Any], client: WebClient) -> None:
        """Record `work` for `body`, then run it on the pool; a re-delivered event already recorded is dropped."""
        name = name_of(work)
        delivery_id = delivery_of(body)
        now = self.clock()
        try:
            answer_id = pending.record(
                self.engine, name, storable(body), delivery_id, self.worker, now, now + ANSWER_WINDOW
            )
        except SQLAlchemyError as error:  # the answer matters more than its record
            log.error("could not record %s (%s): answering it without a record", name, type(error).__name__)
            self._run_later(None, _Task(work, deps, body, client))
            return
        if answer_id is None:
            log.info("%s was recorded before (a second delivery): %s not run again", delivery_id, name)
            return
        self._run_later(_Job(answer_id, name), _Task(work, deps, body, client))

    # --- running ---

    def _run_later(self, job: _Job | None, task: _Task) -> None:
        with self._idle:
            self._running += 1
        try:
            self.pool.submit(self._run, job, task)
        except RuntimeError:  # the pool is shut down: the process is stopping and others will take the row
            self._done_running()
            log.warning("answer %s not started: this process is stopping", job.id if job else "(unrecorded)")

    def _run(self, job: _Job | None, task: _Task) -> None:
        """Run the task's work; with its `answered`, only once its answer (a post whose process stopped) is known not
        to be in Slack."""
        try:
            if job is None:
                task.work(task.deps, task.body, task.client)
                return
            with watching(_Watch(self, job)):
                watched = watched_copy(task.client)
                found = task.answered(task.deps, task.body, watched) if task.answered is not None else False
                if found is not False:
                    self._settle_attempted(job, found)
                    return
                if task.answered is not None:
                    why = REPEATED if task.answered is _unseen else NOT_FOUND
                    log.warning("answer %d (%s): %s; answering it again", job.id, job.work, why)
                task.work(task.deps, task.body, watched)
            self._finish(job, Status.DONE)
        except AnswerTakenOver as taken:
            log.info("%s", taken)
        except Exception:
            log.exception("answering %s failed", job.work if job else "an unrecorded question")
            if job is not None:
                self._finish(job, Status.DONE)  # run again, it would fail again: the user had the apology
        finally:
            self._done_running()

    def _settle_attempted(self, job: _Job, found: bool | None) -> None:
        """End a question whose stopped process attempted its post: its answer was found in Slack, or Slack would
        not say (then it may have arrived, and is not posted again)."""
        if found:
            log.warning("answer %d (%s): %s", job.id, job.work, FOUND)
            self._finish(job, Status.DONE)
            return
        _log_unknown(job.id, job.work)
        self._finish(job, Status.UNKNOWN)

    def _done_running(self) -> None:
        with self._idle:
            self._running -= 1
            self._idle.notify_all()

    def _finish(self, job: _Job, status: Status) -> None:
        try:
            if not pending.finish(self.engine, job.id, self.worker, status, self.clock()):
                log.info("answer %d was taken over or expired before it was marked %s", job.id, status)
        except SQLAlchemyError as error:
            log.error("answer %d: could not mark it %s (%s)", job.id, status, type(error).__name__)

    # --- recovery ---

    def start(self, deps: Any, client_for: ClientFor) -> DurableAnswers:
        """Heartbeat from now on, and every second answer what stopped processes left (`replay_with`)."""
        pending.heartbeat(self.engine, self.worker, self.clock())  # before any question of ours is recorded
        self.replay_with(deps, client_for)
        self._thread = threading.Thread(target=self._watch, name="notesbot-answers", daemon=True)
        self._thread.start()
        log.info("answering as %s; questions left by stopped processes are answered here too", self.worker)
        return self

    def replay_with(self, deps: Any, client_for: ClientFor) -> None:
        """Let `recover_once` answer what stopped processes left, with `deps` and the client of each question's
        workspace."""
        self._replay = (deps, client_for)
        self._claiming.set()

    def _watch(self) -> None:
        while not self._stopping.wait(HEARTBEAT_SECONDS):
            try:
                self.recover_once()
            except Exception:  # the heartbeat must outlive a database hiccup
                log.exception("heartbeat or recovery failed; trying again")

    def recover_once(self) -> None:
        """Heartbeat; then settle, claim and answer what stopped processes left."""
        now = self.clock()
        pending.heartbeat(self.engine, self.worker, now)
        if not self._claiming.is_set() or self._replay is None:
            return
        checkable = sorted(_answered)
        for settled in pending.settle_orphans(self.engine, now, DEAD_AFTER, checkable):
            _log_settled(settled)
        claims = pending.claim_orphans(self.engine, self.worker, now, STALE_AFTER, DEAD_AFTER, CLAIM_BATCH, checkable)
        for orphan in claims:
            self._answer_orphan(orphan)
        if self._forgotten_at is None or now - self._forgotten_at >= FORGET_EVERY:
            pending.forget(self.engine, now - MEMORY)
            self._forgotten_at = now

    def _answer_orphan(self, orphan: Pending) -> None:
        assert self._replay is not None
        deps, client_for = self._replay
        work = registered_work(orphan.work)
        try:
            if work is None:
                raise LookupError(f"no deferred work is registered as {orphan.work!r} in this version")
            client = client_for(orphan.body)
        except LookupError as error:
            log.error("answer %d (%s) dropped: %s", orphan.id, orphan.work, error)
            self._finish(_Job(orphan.id, orphan.work), Status.DROPPED)
            return
        if orphan.attempted:
            log.info("looking for the answer to %s %d, whose process stopped as it posted", orphan.work, orphan.id)
            job = _Job(orphan.id, orphan.work, Status.POSTING)
            self._run_later(job, _Task(work, deps, orphan.body, client, _answered[orphan.work]))
            return
        log.info("answering %s %d, left by a stopped process", orphan.work, orphan.id)
        self._run_later(_Job(orphan.id, orphan.work), _Task(work, deps, orphan.body, client))

    # --- stopping ---

    def drain(self, timeout: float) -> int:
        """Claim nothing more, and wait up to `timeout` seconds for the pool's work; the number still running."""
        self._claiming.clear()
        with self._idle:
            self._idle.wait_for(lambda: self._running == 0, timeout)
            return self._running

    def stop(self) -> None:
        """Stop heartbeating and starting work; what this process still holds pending is released for the others to
        answer at once (a piece of work already running here then finds it is no longer its to post)."""
        if self._stopping.is_set():
            return
        self._claiming.clear()
        self._stopping.set()
        self.pool.shutdown(wait=False, cancel_futures=True)
        if self._thread is not None:
            self._thread.join()
        try:
            released = pending.retire(self.engine, self.worker)
        except SQLAlchemyError as error:
            log.error("could not release this process's questions (%s): others take them in a few seconds", error)
            return
        if released:
            log.warning("%d question(s) not answered in time here, left for another process to answer", released)


def delivery_of(body: dict[str, Any]) -> str | None:
    """Slack's id of a delivery, the same on every delivery of it: an event's event_id; a command's or an
    interaction's trigger_id (unique to each use of it)."""
    if body.get("type") == "event_callback":
        return body.get("event_id")
    return body.get("trigger_id")


def storable(body: dict[str, Any]) -> dict[str, Any]:
    """The payload as stored: without its `token` (Slack's deprecated verification token, a secret)."""
    return {key: value for key, value in body.items() if key != "token"}


def workspace_clients(client: WebClient, store: InstallationStore | None) -> ClientFor:
    """The Web API client for a stored payload: the app's `client` (one workspace), or one with the bot token
    installed in the payload's workspace (OAuth mode, `store`); LookupError when that workspace has none (it
    uninstalled the app since)."""
    if store is None:
        return lambda _body: client

    def client_for(body: dict[str, Any]) -> WebClient:
        enterprise_id, team_id = extract_enterprise_id(body), extract_team_id(body)
        bot = store.find_bot(
            enterprise_id=enterprise_id,
            team_id=team_id,
            is_enterprise_install=bool(extract_is_enterprise_install(body)),
        )
        if bot is None or not bot.bot_token:
            raise LookupError(f"no installation of the app in workspace {team_id or enterprise_id}")
        return watched_copy(client, bot.bot_token)

    return client_for


def _log_unknown(answer_id: int, work: str) -> None:
    log.warning(
        "answer %d (%s): its process stopped after attempting a post; not posted again, since it may have "
        "arrived (a post to Slack has no idempotency key)",
        answer_id,
        work,
    )


def _log_settled(settled: pending.Settled) -> None:
    if settled.status is Status.UNKNOWN:
        _log_unknown(settled.id, settled.work)
    else:
        log.error("answer %d (%s) given up: not answered within %s", settled.id, settled.work, ANSWER_WINDOW)
