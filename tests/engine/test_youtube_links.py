"""Reading YouTube links: every form of link and of moment YouTube makes, and anything else ignored (None, never
an error)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.engine.youtube import VideoLink, read_moment, read_youtube_link

ID = "s3MuSOl1Rog"


@pytest.mark.parametrize(
    ("url", "seconds"),
    [
        (f"https://www.youtube.com/watch?v={ID}", None),
        (f"https://www.youtube.com/watch?v={ID}&t=2280", 2280),
        (f"https://www.youtube.com/watch?v={ID}&t=2280s", 2280),
        (f"https://www.youtube.com/watch?v={ID}&t=38m", 2280),
        (f"https://www.youtube.com/watch?v={ID}&t=1h2m3s", 3723),
        (f"https://www.youtube.com/watch?v={ID}&t=1h2m3", 3723),
        (f"https://www.youtube.com/watch?v={ID}&t=38m0s", 2280),
        (f"https://www.youtube.com/watch?t=2280s&v={ID}", 2280),
        (f"https://www.youtube.com/watch?v={ID}&amp;t=2280s", 2280),  # as Slack's link_shared may send it
        (f"https://www.youtube.com/watch?v={ID}#t=38m", 2280),
        (f"https://www.youtube.com/watch?v={ID}&list=PL123&index=4&t=90s", 90),
        (f"https://youtube.com/watch?v={ID}&t=5", 5),
        (f"https://m.youtube.com/watch?v={ID}&t=1m", 60),
        (f"http://www.youtube.com/watch?v={ID}", None),
        (f"https://WWW.YouTube.com/watch?v={ID}&t=10", 10),
        (f"https://youtu.be/{ID}", None),
        (f"https://youtu.be/{ID}?t=2280", 2280),
        (f"https://youtu.be/{ID}?si=AbCdEf&t=38m", 2280),
        (f"https://youtu.be/{ID}/", None),
        (f"https://www.youtube.com/shorts/{ID}", None),
        (f"https://www.youtube.com/shorts/{ID}?feature=share", None),
        (f"https://www.youtube.com/live/{ID}?si=x&t=120", 120),
        (f"https://www.youtube.com/embed/{ID}?start=2280", 2280),
        (f"https://www.youtube.com/embed/{ID}?start=30&end=60", 30),
        (f"https://www.youtube.com/watch?v={ID}&t=soon", None),  # YouTube starts at the beginning too
        (f"https://www.youtube.com/watch?v={ID}&t=", None),
    ],
)
def test_every_youtube_link_form_gives_its_video_and_moment(url: str, seconds: int | None) -> None:
    assert read_youtube_link(url) == VideoLink(ID, seconds)


@pytest.mark.parametrize(
    "url",
    [
        "",
        "not a link",
        "https://vimeo.com/123456789",
        "https://notyoutube.com/watch?v=s3MuSOl1Rog",
        "https://youtube.com.evil.example/watch?v=s3MuSOl1Rog",
        "https://www.youtube.com/",
        "https://www.youtube.com/watch",
        "https://www.youtube.com/watch?v=short",
        "https://www.youtube.com/watch?v=s3MuSOl1Rog1",  # twelve characters
        "https://www.youtube.com/watch?v=s3MuSOl1R<g",
        "https://www.youtube.com/watch?v=s3MuSOl1Rog&v=dQw4w9WgXcQ",  # two videos: which?
        "https://www.youtube.com/channel/UCSHZKyawb77ixDdsGog4iWA",
        "https://www.youtube.com/@lexfridman",
        "https://www.youtube.com/playlist?list=PLrAXtmErZgOdP_8GztsuKi9nrraNbKKp4",
        "https://www.youtube.com/shorts/",
        "https://www.youtube.com/embed/s3MuSOl1Rog/extra",
        "https://youtu.be/",
        "https://youtu.be/s3MuSOl1Rog/more",
        "ftp://youtu.be/s3MuSOl1Rog",
        "javascript:alert(1)//youtu.be/s3MuSOl1Rog",
        "https://youtu.be:99999/s3MuSOl1Rog",
        "https://youtu.be:8080/s3MuSOl1Rog",
        "https://user@youtu.be/s3MuSOl1Rog",
        "https://[::1/s3MuSOl1Rog",
        "https://www.youtube.com/watch?v=" + "a" * 5000,
    ],
)
def test_anything_but_a_youtube_video_link_is_no_video_link(url: str) -> None:
    assert read_youtube_link(url) is None


@given(st.text(max_size=200))
def test_no_text_makes_the_link_reader_fail(text: str) -> None:
    found = read_youtube_link(text)
    assert found is None or len(found.video_id) == 11


@given(st.text(alphabet="0123456789hms:-. x", max_size=12))
def test_no_time_value_makes_the_moment_reader_fail(value: str) -> None:
    seconds = read_moment(value)
    assert seconds is None or seconds >= 0


def test_a_moment_has_at_most_seven_digits_per_part() -> None:
    assert read_moment("9999999") == 9_999_999
    assert read_moment("99999999") is None
