"""The fake Slack Web API used by the end-to-end tests behaves like Slack where the bot depends on it."""

from __future__ import annotations

import socket
from urllib.parse import urlsplit

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from slack_sdk.webhook import WebhookClient

from tests.fake_slack import BOT_TOKEN, FakeSlack


@pytest.fixture
def fake():
    """A bare fake (not the `fake_slack` fixture: these tests send invalid payloads on purpose)."""
    with FakeSlack() as fake:
        yield fake


def test_records_calls_and_answers_like_slack(fake):
    client = WebClient(token=BOT_TOKEN, base_url=fake.base_url)
    assert client.auth_test()["user_id"] == fake.bot_user_id
    posted = client.chat_postMessage(channel="C1", text="hi", thread_ts="1.2")
    assert posted["ts"] and posted["channel"] == "C1"
    call = fake.wait_for("chat.postMessage")[0]
    assert call.body["text"] == "hi" and call.body["thread_ts"] == "1.2"
    assert call.headers["authorization"] == f"Bearer {BOT_TOKEN}"


def test_refuses_a_wrong_token(fake):
    with pytest.raises(SlackApiError, match="invalid_auth"):
        WebClient(token="xoxb-wrong", base_url=fake.base_url).chat_postMessage(channel="C1", text="hi")


def test_rate_limits_then_succeeds(fake):
    fake.fail_next(1, status=429, retry_after=0, method="chat.postMessage")
    client = WebClient(token=BOT_TOKEN, base_url=fake.base_url, retry_handlers=[RateLimitErrorRetryHandler()])
    client.chat_postMessage(channel="C1", text="hi")
    assert [c.status for c in fake.calls_to("chat.postMessage")] == [429, 200]


@pytest.mark.filterwarnings("ignore:The top-level `text` argument is missing")
def test_flags_what_slack_would_refuse(fake):
    client = WebClient(token=BOT_TOKEN, base_url=fake.base_url)
    too_many = [{"type": "divider"}] * 51
    with pytest.raises(SlackApiError, match="invalid_blocks"):
        client.chat_postMessage(channel="C1", text="x", blocks=too_many)
    with pytest.raises(SlackApiError, match="invalid_blocks"):
        client.chat_postMessage(channel="C1", blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": "x"}}])
    long_section = {"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}
    WebhookClient(fake.response_url()).send_dict({"text": "t", "blocks": [long_section]})
    assert len(fake.violations) == 3


def test_accepts_response_url_posts(fake):
    url = fake.response_url()
    assert WebhookClient(url).send_dict({"text": "hello", "response_type": "ephemeral"}).status_code == 200
    assert WebhookClient(url).send_dict({"delete_original": True}).status_code == 200
    assert [c.body for c in fake.calls_to("response_url")] == [
        {"text": "hello", "response_type": "ephemeral"},
        {"delete_original": True},
    ]
    assert not fake.violations


def test_ignores_a_post_whose_sender_died_before_its_body(fake):
    """A process killed between the headers and the body of its post: Slack never sees such a request."""
    url = urlsplit(fake.response_url())
    with socket.create_connection((url.hostname, url.port)) as sender:
        sender.sendall(
            f"POST {url.path} HTTP/1.1\r\nHost: {url.netloc}\r\nContent-Type: application/json\r\n"
            "Content-Length: 40\r\n\r\n".encode()
        )
        sender.shutdown(socket.SHUT_WR)
        assert sender.recv(1024) == b""  # closed without an answer
    assert WebhookClient(fake.response_url()).send_dict({"text": "later"}).status_code == 200
    assert [c.body for c in fake.calls_to("response_url")] == [{"text": "later"}]
    assert not fake.violations


def test_chat_unfurl_takes_previews_of_the_urls_shared_in_that_message_only(fake):
    client = WebClient(token=BOT_TOKEN, base_url=fake.base_url)
    event = fake.links_shared(["https://youtu.be/s3MuSOl1Rog"], channel="C1", message_ts="1.2")
    preview = {"blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "a preview"}}]}
    assert event["links"] == [{"domain": "youtu.be", "url": "https://youtu.be/s3MuSOl1Rog"}]
    assert client.chat_unfurl(channel="C1", ts="1.2", unfurls={"https://youtu.be/s3MuSOl1Rog": preview})["ok"]

    with pytest.raises(SlackApiError, match="cannot_unfurl_url"):
        client.chat_unfurl(channel="C1", ts="1.2", unfurls={"https://youtu.be/dQw4w9WgXcQ": preview})
    with pytest.raises(SlackApiError, match="cannot_unfurl_url"):
        client.chat_unfurl(channel="C1", ts="9.9", unfurls={"https://youtu.be/s3MuSOl1Rog": preview})
    assert len(fake.violations) == 2


def test_a_later_chat_unfurl_of_a_message_replaces_its_previews_rather_than_adding_more(fake):
    client = WebClient(token=BOT_TOKEN, base_url=fake.base_url)
    urls = ["https://youtu.be/s3MuSOl1Rog", "https://youtu.be/dQw4w9WgXcQ"]
    fake.links_shared(urls, channel="C1", message_ts="1.2")

    def preview(text: str) -> dict:
        return {"blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]}

    client.chat_unfurl(channel="C1", ts="1.2", unfurls={urls[0]: preview("first"), urls[1]: preview("other")})
    client.chat_unfurl(channel="C1", ts="1.2", unfurls={urls[0]: preview("again")})

    assert fake.previews_of("C1", "1.2") == {urls[0]: preview("again"), urls[1]: preview("other")}
    assert fake.previews_of("C1", "9.9") == {}


@pytest.mark.parametrize(
    ("target", "unfurls"),
    [
        ({}, {"https://youtu.be/s3MuSOl1Rog": {"blocks": []}}),  # no target
        ({"channel": "C1"}, {"https://youtu.be/s3MuSOl1Rog": {"blocks": []}}),  # half a target
        ({"unfurl_id": "U1", "source": "somewhere"}, {"https://youtu.be/s3MuSOl1Rog": {"blocks": []}}),
        ({"channel": "C1", "ts": "1.2"}, {}),  # nothing to preview
        ({"channel": "C1", "ts": "1.2"}, {"https://youtu.be/s3MuSOl1Rog": {"text": "no blocks"}}),
        ({"channel": "C1", "ts": "1.2"}, {"https://youtu.be/s3MuSOl1Rog": {"blocks": [{"type": "divider"}] * 51}}),
    ],
)
def test_chat_unfurl_refuses_what_slack_refuses(fake, target, unfurls):
    fake.links_shared(["https://youtu.be/s3MuSOl1Rog"], channel="C1", message_ts="1.2", unfurl_id="U1")
    with pytest.raises(SlackApiError):
        WebClient(token=BOT_TOKEN, base_url=fake.base_url).chat_unfurl(**target, unfurls=unfurls)
    assert fake.violations


MODAL = {"type": "modal", "title": {"type": "plain_text", "text": "Search the notes"}, "blocks": []}
INPUT = {"type": "input", "block_id": "q", "label": {"type": "plain_text", "text": "Q"}, "element": {"type": "x"}}


def test_keeps_a_modal_s_hash_and_refuses_an_update_with_a_stale_one(fake):
    client = WebClient(token=BOT_TOKEN, base_url=fake.base_url)
    opened = client.views_open(trigger_id="1.2.abc", view=MODAL)["view"]
    updated = client.views_update(view_id=opened["id"], hash=opened["hash"], view=MODAL)["view"]
    assert updated["id"] == opened["id"] and updated["hash"] != opened["hash"]
    with pytest.raises(SlackApiError, match="hash_conflict"):
        client.views_update(view_id=opened["id"], hash=opened["hash"], view=MODAL)
    with pytest.raises(SlackApiError, match="not_found"):
        client.views_update(view_id="V0NOSUCH1", view=MODAL)
    client.views_update(view_id=opened["id"], view=MODAL)  # without a hash: no check
    assert not fake.violations


def test_flags_a_modal_slack_would_refuse(fake):
    client = WebClient(token=BOT_TOKEN, base_url=fake.base_url)
    for view in (
        MODAL | {"title": {"type": "plain_text", "text": "A title longer than 24 chars"}},
        MODAL | {"blocks": [INPUT]},  # an input block and no submit button
        MODAL | {"type": "home"},
    ):
        with pytest.raises(SlackApiError, match="invalid_blocks"):
            client.views_open(trigger_id="1.2.abc", view=view)
    submit = {"type": "plain_text", "text": "Go"}
    client.views_open(trigger_id="1.2.abc", view=MODAL | {"blocks": [INPUT], "submit": submit})
    assert len(fake.violations) == 3


def test_checks_the_assistant_methods(fake):
    client = WebClient(token=BOT_TOKEN, base_url=fake.base_url)
    thread = {"channel_id": "D1", "thread_ts": "1.2"}
    client.assistant_threads_setStatus(**thread, status="is searching…")
    client.assistant_threads_setStatus(**thread, status="")  # clears it
    client.assistant_threads_setTitle(**thread, title="a title")
    client.assistant_threads_setSuggestedPrompts(**thread, prompts=[{"title": "T", "message": "M"}])
    assert not fake.violations
    for prompts in ([], [{"title": "T", "message": "M"}] * 5, [{"title": "T"}]):
        with pytest.raises(SlackApiError, match="invalid_blocks"):
            client.assistant_threads_setSuggestedPrompts(**thread, prompts=prompts)
    with pytest.raises(SlackApiError, match="invalid_blocks"):
        client.assistant_threads_setTitle(channel_id="D1", thread_ts="1.2", title="")
    assert len(fake.violations) == 4


def test_answers_conversations_replies_from_the_thread_s_first_message(fake):
    fake.add_thread("C1", "1.1", [{"user": "U1", "text": "the question"}, {"user": "U2", "text": "a reply"}])
    client = WebClient(token=BOT_TOKEN, base_url=fake.base_url)
    [root] = client.conversations_replies(channel="C1", ts="1.1", limit=1, inclusive=True)["messages"]
    assert (root["ts"], root["text"]) == ("1.1", "the question")
    assert len(client.conversations_replies(channel="C1", ts="1.1")["messages"]) == 2
    with pytest.raises(SlackApiError, match="thread_not_found"):
        client.conversations_replies(channel="C1", ts="9.9")


def test_keeps_the_bot_s_posts_where_conversations_methods_find_them_with_metadata_only_when_asked(fake):
    client = WebClient(token=BOT_TOKEN, base_url=fake.base_url)
    metadata = {"event_type": "notesbot_answer", "event_payload": {"question_ts": "1.1"}}
    fake.add_thread("C1", "1.1", [{"user": "U1", "text": "the question"}])
    reply = client.chat_postMessage(channel="C1", thread_ts="1.1", text="an answer", metadata=metadata)
    posted = client.chat_postMessage(channel="D1", text="a direct answer", metadata=metadata)

    _, kept = client.conversations_replies(channel="C1", ts="1.1", include_all_metadata=True)["messages"]
    assert (kept["ts"], kept["bot_id"], kept["metadata"]) == (reply["ts"], fake.bot_id, metadata)
    assert "metadata" not in client.conversations_replies(channel="C1", ts="1.1")["messages"][1]
    [direct] = client.conversations_history(channel="D1", oldest="1.1", include_all_metadata=True)["messages"]
    assert (direct["ts"], direct["metadata"]) == (posted["ts"], metadata)
    assert client.conversations_history(channel="D1", oldest=posted["ts"])["messages"] == []  # only what came after


@pytest.mark.parametrize(
    "metadata",
    [{"event_payload": {"a": "b"}}, {"event_type": "t"}, {"event_type": "t", "event_payload": {"nested": {"a": 1}}}],
    ids=["no event_type", "no event_payload", "a payload value that is not a scalar"],
)
def test_flags_message_metadata_slack_would_refuse(fake, metadata):
    client = WebClient(token=BOT_TOKEN, base_url=fake.base_url)
    with pytest.raises(SlackApiError, match="invalid_blocks"):
        client.chat_postMessage(channel="C1", text="hi", metadata=metadata)
    assert len(fake.violations) == 1 and "invalid_metadata" in fake.violations[0]


def test_can_fail_with_a_server_error_after_keeping_the_message(fake):
    client = WebClient(token=BOT_TOKEN, base_url=fake.base_url)
    fake.fail_next(1, status=500, method="chat.postMessage", after_keeping=True)
    with pytest.raises(SlackApiError):
        client.chat_postMessage(channel="C1", thread_ts="1.1", text="kept")
    [kept] = client.conversations_replies(channel="C1", ts="1.1")["messages"]
    assert kept["text"] == "kept"
