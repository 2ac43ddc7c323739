"""`notesbot serve` with SLACK_APP_TOKEN, a real process against the fake Socket Mode endpoint and the fake Web API:
every kind of envelope acked with its id within 3 s and answered exactly as over HTTP; reconnects after Slack's
`disconnect` and after a dropped connection, answering on; a re-delivered event answered once; /readyz that follows
the link and fails, with the process exiting, when the link stays down; a refused app token one line at start."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest

from bot.slack.messages import NEXT_ACTION, result_value
from tests.fake_slack import APP_TOKEN, FakeSlack
from tests.fake_socket_mode import DISCONNECT_REASONS, FakeSocketMode, SocketModeSender
from tests.replicas import REPO, Replica, serve_settings
from tests.slack.conftest import RunningServer, bot_settings, start_bot
from tests.slack_sender import SlackSender, free_port
from tests.waiting import eventually

DM_CHANNEL = "D0DIRECT1"


def socket_mode_settings(fake: FakeSlack, folder: Path, **more: str) -> dict[str, str]:
    return serve_settings(fake.base_url, folder, **({"SLACK_APP_TOKEN": APP_TOKEN} | more))


@pytest.fixture(scope="module")
def endpoint(module_fake_slack: FakeSlack) -> Iterator[FakeSocketMode]:
    with FakeSocketMode(module_fake_slack) as endpoint:
        yield endpoint


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("socket-mode")


@pytest.fixture(scope="module")
def bot(module_fake_slack: FakeSlack, endpoint: FakeSocketMode, folder: Path) -> Iterator[Replica]:
    """One `notesbot serve` over Socket Mode for the module's tests."""
    replica = Replica("socket-mode", socket_mode_settings(module_fake_slack, folder), folder / "serve.log")
    try:
        replica.wait_ready()
        yield replica
    finally:
        replica.stop()


@pytest.fixture(scope="module")
def http_bot(module_fake_slack: FakeSlack, folder: Path) -> Iterator[RunningServer]:
    """The same app served over HTTP (in process), to compare answers with."""
    with start_bot(bot_settings(module_fake_slack, folder / "http")) as server:
        yield server


@pytest.fixture(scope="module")
def slack(bot: Replica, endpoint: FakeSocketMode) -> SocketModeSender:
    """One sender for the module: its event ids never repeat within the serve process."""
    endpoint.wait_for_links(1)
    return SocketModeSender(endpoint)


def the_answer(fake: FakeSlack, request: dict[str, Any]) -> dict[str, Any]:
    """The message that answered `request` (by its response_url, in its event's thread, or the Home it opened)."""

    def answers() -> list[dict[str, Any]]:
        if "response_url" in request:
            path = "/" + request["response_url"].split("/", 3)[3]
            return [c.body for c in fake.calls_to("response_url", answered_ok=True) if c.path == path]
        event = request["event"]
        if event["type"] == "app_home_opened":
            return [
                c.body for c in fake.calls_to("views.publish", answered_ok=True) if c.body["user_id"] == event["user"]
            ]
        thread = event.get("thread_ts") or event["ts"]
        return [
            c.body for c in fake.calls_to("chat.postMessage", answered_ok=True) if c.body.get("thread_ts") == thread
        ]

    fake.wait_until(lambda: len(answers()) >= 1)
    [answer] = answers()
    return answer


def shown(message: dict[str, Any]) -> dict[str, Any]:
    """What a person sees of an answer: everything but where it went (and the metadata naming its question)."""
    return {k: v for k, v in message.items() if k not in {"channel", "thread_ts", "user_id", "metadata"}}


def requests_of_every_kind(sender: SocketModeSender | SlackSender) -> dict[str, str]:
    """A slash command, a button, a mention, a direct message (in a thread) and App Home opened, by kind; the
    times and users unique, so that each answer can be told from the others."""
    unique = f"{time.time():.6f}"
    mention = sender.message_event("<@UBOT0001> computer vision", type="app_mention", ts=unique)
    dm = sender.message_event("origami crane", type="message", channel=DM_CHANNEL, channel_type="im", thread_ts=unique)
    home = {"type": "app_home_opened", "user": f"U{unique.replace('.', '')}", "tab": "home"}
    return {
        "command": sender.command_body("computer vision"),
        "button": sender.action_body(NEXT_ACTION, result_value("deep learning", 0)),
        "mention": sender.event_body(mention),
        "dm": sender.event_body(dm),
        "home": sender.event_body(home),
    }


def payload_of(body: str) -> dict[str, Any]:
    """The payload of a request body as tests/slack_sender.py builds it (JSON, or a form)."""
    if body.startswith("{"):
        return json.loads(body)
    form = {key: values[-1] for key, values in parse_qs(body, keep_blank_values=True).items()}
    return json.loads(form["payload"]) if "payload" in form else form


def send(sender: SocketModeSender | SlackSender, body: str) -> Any:
    kind = "application/json" if body.startswith("{") else "application/x-www-form-urlencoded"
    return sender.post(body, kind)


# ---- envelopes -----------------------------------------------------------------------------------------------------


def test_every_kind_of_envelope_is_acked_with_its_id_within_3_seconds(
    module_fake_slack: FakeSlack, endpoint: FakeSocketMode, slack: SocketModeSender
) -> None:
    sent = [send(slack, body) for body in requests_of_every_kind(slack).values()]

    acks = [endpoint.wait_for_ack(envelope_id) for envelope_id in sent]

    assert [a.envelope_id for a in acks] == sent
    assert all(a.seconds < 3 for a in acks), [round(a.seconds, 3) for a in acks]


def test_every_kind_is_answered_exactly_as_over_http(
    module_fake_slack: FakeSlack, endpoint: FakeSocketMode, slack: SocketModeSender, http_bot: RunningServer
) -> None:
    over_http = SlackSender(http_bot.url, module_fake_slack)
    answers = {}
    for transport, sender in (("socket", slack), ("http", over_http)):
        for kind, body in requests_of_every_kind(sender).items():
            send(sender, body)
            answers[transport, kind] = shown(the_answer(module_fake_slack, payload_of(body)))

    for kind in ("command", "button", "mention", "dm", "home"):
        assert answers["socket", kind] == answers["http", kind], kind
    assert "Computer Vision and Robotics" in json.dumps(answers["socket", "command"])


def test_a_redelivered_event_is_acked_again_and_answered_once(
    module_fake_slack: FakeSlack, endpoint: FakeSocketMode, slack: SocketModeSender, folder: Path
) -> None:
    event = slack.message_event("<@UBOT0001> robotics", type="app_mention")
    first = slack.event(event, event_id="Ev0SOCKETAGAIN")
    again = slack.event(event, event_id="Ev0SOCKETAGAIN", headers={"X-Slack-Retry-Num": "1"})

    endpoint.wait_for_ack(first)
    endpoint.wait_for_ack(again)
    the_answer(module_fake_slack, {"event": event})
    marker = slack.message_event("<@UBOT0001> origami", type="app_mention")
    slack.event(marker)
    the_answer(module_fake_slack, {"event": marker})  # answered after the re-delivery was decided on

    in_thread = [c for c in module_fake_slack.calls_to("chat.postMessage") if c.body.get("thread_ts") == event["ts"]]
    assert len(in_thread) == 1
    with sqlite3.connect(folder / "bot.sqlite3") as database:
        rows = database.execute("SELECT status FROM pending_answers WHERE delivery_id = 'Ev0SOCKETAGAIN'").fetchall()
    assert rows == [("done",)]


# ---- reconnects ----------------------------------------------------------------------------------------------------


def answered_after(fake: FakeSlack, endpoint: FakeSocketMode, slack: SocketModeSender, links_before: int) -> None:
    """A new connection was opened (with a new URL) and a command sent over it is acked there and answered."""
    endpoint.wait_for_links(links_before + 1)
    assert len(fake.calls_to("apps.connections.open")) >= links_before + 1
    body = slack.command_body("computer vision")
    ack = endpoint.wait_for_ack(send(slack, body))
    assert ack.link > links_before
    assert "Computer Vision and Robotics" in json.dumps(the_answer(fake, payload_of(body)))


@pytest.mark.parametrize("reason", DISCONNECT_REASONS)
def test_a_disconnect_from_slack_is_followed_by_a_new_connection_that_answers(
    module_fake_slack: FakeSlack, endpoint: FakeSocketMode, slack: SocketModeSender, reason: str
) -> None:
    links_before = endpoint.handshakes
    endpoint.disconnect(reason, close_after=1.0)
    answered_after(module_fake_slack, endpoint, slack, links_before)


@pytest.mark.parametrize("drop", ["reset", "half_close"])
def test_a_dropped_tcp_connection_is_replaced_and_the_bot_answers_on(
    module_fake_slack: FakeSlack, endpoint: FakeSocketMode, slack: SocketModeSender, drop: str
) -> None:
    links_before = endpoint.handshakes
    getattr(endpoint, drop)()
    answered_after(module_fake_slack, endpoint, slack, links_before)


# ---- readiness and start -------------------------------------------------------------------------------------------


def test_readyz_says_the_socket_is_connected_and_only_the_probes_are_served(bot: Replica) -> None:
    ready = httpx.get(f"{bot.url}/readyz", timeout=5)
    assert ready.status_code == 200 and "connected to Slack over Socket Mode" in ready.text
    assert httpx.get(f"{bot.url}/healthz", timeout=5).status_code == 200
    assert httpx.get(f"{bot.url}/metrics", timeout=5).status_code == 200
    assert httpx.post(f"{bot.url}/slack/events", content=b"{}", timeout=5).status_code == 404


def test_a_link_down_longer_than_the_limit_fails_readyz_and_ends_the_process(
    fake_slack: FakeSlack, socket_mode: FakeSocketMode, tmp_path: Path
) -> None:
    settings = socket_mode_settings(fake_slack, tmp_path, SOCKET_MODE_DOWN_SECONDS="4")
    replica = Replica("down", settings, tmp_path / "serve.log")
    try:
        replica.wait_ready()
        socket_mode.refuse_connections(60)
        socket_mode.reset()

        answers: list[httpx.Response] = []  # the 503 read where it is seen: the process may be gone right after

        def not_ready() -> bool:
            answers.append(httpx.get(f"{replica.url}/readyz", timeout=2))
            return answers[-1].status_code == 503

        assert eventually(not_ready, within=20)
        assert "Socket Mode link down for" in answers[-1].text, answers[-1].text  # down too long, or stopping for it
        assert replica.exit_code(timeout=30) == 1
    finally:
        replica.stop()
    log = replica.log()
    assert "/readyz: Socket Mode link down for" in log
    assert "Socket Mode link down for over 4 s" in log and "exiting so that the process is started again" in log


def serve_once(env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """`notesbot serve` run to its end with only `env` (and a home, a port) as its environment."""
    environment = {"HOME": str(tmp_path), "HOST": "127.0.0.1", "PORT": str(free_port())} | env
    return subprocess.run(
        [sys.executable, "-m", "bot", "serve"], cwd=REPO, env=environment, capture_output=True, text=True, timeout=60
    )


def test_a_refused_app_token_stops_serve_with_one_line_naming_it(fake_slack: FakeSlack, tmp_path: Path) -> None:
    wrong = "xapp-1-A0NOTESBOT-1-revoked"
    result = serve_once(socket_mode_settings(fake_slack, tmp_path, SLACK_APP_TOKEN=wrong), tmp_path)

    assert result.returncode == 2
    assert "Traceback" not in result.stderr and wrong not in result.stderr + result.stdout
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("notesbot: SLACK_APP_TOKEN was refused by") and "(invalid_auth)" in last


def test_a_refused_bot_token_stops_serve_with_one_line_naming_it(fake_slack: FakeSlack, tmp_path: Path) -> None:
    result = serve_once(socket_mode_settings(fake_slack, tmp_path, SLACK_BOT_TOKEN="xoxb-revoked"), tmp_path)

    assert result.returncode == 2
    assert "Traceback" not in result.stderr and "xoxb-revoked" not in result.stderr + result.stdout
    assert result.stderr.strip().splitlines()[-1].startswith("notesbot: could not verify SLACK_BOT_TOKEN")
