"""Reading a YouTube link: which video, and which moment of it.

Pure. Every form of link YouTube and its share buttons make is read: `youtube.com/watch?v=ID`,
`youtu.be/ID`, `/shorts/ID`, `/live/ID`, `/embed/ID` (on `youtube.com`, `www.`, `m.`), with the moment
as `t=2280`, `t=2280s`, `t=38m`, `t=1h2m3s`, `start=2280` or a fragment `#t=38m`. Anything else (another
host, no 11-character video id, a path YouTube does not serve videos at) is no video link: None, never
an error. A moment YouTube itself could not read (`t=soon`) leaves the link without a moment, as the
player then starts at the beginning.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

YOUTUBE_HOSTS = ("youtube.com", "www.youtube.com", "m.youtube.com")
SHORT_HOST = "youtu.be"
VIDEO_HOSTS = (*YOUTUBE_HOSTS, SHORT_HOST)  # the link_shared domains the app registers
_VIDEO_PATHS = ("shorts", "live", "embed")  # youtube.com/<kind>/ID
_VIDEO_ID = re.compile(r"[A-Za-z0-9_-]{11}")
# `2280`, `2280s`, `38m`, `1h2m3s` (and `1h2m3`: the last number is seconds). Seven digits at most, so
# that a pasted link cannot make the lookup work with an absurd number.
_MOMENT = re.compile(r"(?:(\d{1,7})h)?(?:(\d{1,7})m)?(?:(\d{1,7})s?)?")
MAX_URL_CHARS = 2000  # a longer "link" is not one worth reading


@dataclass(frozen=True, slots=True)
class VideoLink:
    video_id: str
    seconds: int | None  # the moment the link starts at, None for the video's start


def read_youtube_link(url: str) -> VideoLink | None:
    """The video and moment `url` links to, or None when it is no readable YouTube video link.

    `url` may be as Slack sends it, with `&` written `&amp;`."""
    if len(url) > MAX_URL_CHARS:
        return None
    try:
        parts = urlsplit(url.strip().replace("&amp;", "&"))
        host = (parts.hostname or "").lower()
        port = parts.port  # ValueError for a port that is not a number
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or port is not None or parts.username is not None:
        return None
    query = parse_qs(parts.query)
    video_id = _video_id(host, parts.path, query)
    if video_id is None:
        return None
    return VideoLink(video_id, _moment(query, parts.fragment))


def _video_id(host: str, path: str, query: dict[str, list[str]]) -> str | None:
    segments = [segment for segment in path.split("/") if segment]
    if host == SHORT_HOST:
        found = segments[0] if len(segments) == 1 else None
    elif host not in YOUTUBE_HOSTS:
        found = None
    elif segments == ["watch"]:
        ids = query.get("v", [])
        found = ids[0] if len(ids) == 1 else None
    elif len(segments) == 2 and segments[0] in _VIDEO_PATHS:
        found = segments[1]
    else:
        found = None
    return found if found is not None and _VIDEO_ID.fullmatch(found) else None


def _moment(query: dict[str, list[str]], fragment: str) -> int | None:
    """The link's moment: `t=` first, then an embed's `start=`, then a fragment `#t=`."""
    for value in (*query.get("t", []), *query.get("start", []), *parse_qs(fragment).get("t", [])):
        seconds = read_moment(value)
        if seconds is not None:
            return seconds
    return None


def read_moment(value: str) -> int | None:
    """Seconds of a YouTube time: `2280`, `2280s`, `38m`, `1h2m3s`; None for anything else."""
    match = _MOMENT.fullmatch(value.strip().lower())
    if not match or not any(match.groups()):
        return None
    hours, minutes, seconds = (int(part) if part else 0 for part in match.groups())
    return hours * 3600 + minutes * 60 + seconds
