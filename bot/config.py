"""Settings from the environment (and a `.env` file), validated at start with clear messages."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.engine.site import NoteSite, SiteStyle, site_base_url

BUNDLED_NOTES = Path(__file__).resolve().parent.parent / "notes"
DEFAULT_CACHE = Path.home() / ".cache" / "notesbot"
# The embedded database keeps state (digest ledger, subscriptions, installs): a data folder, not the cache
# and not whatever folder the command happens to run in.
DEFAULT_DATABASE = Path.home() / ".local" / "share" / "notesbot" / "notesbot.sqlite3"
_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


# Digest schedule values, shared by the settings and by `/notes digest on ...`; each returns the
# normalised value or raises ValueError with what is expected.
def clock_time(value: str) -> str:
    match = re.fullmatch(r"(\d{1,2}):(\d{2})", value.strip())
    if not match or int(match.group(1)) > 23 or int(match.group(2)) > 59:
        raise ValueError("must be a time of day as HH:MM, such as 09:00")
    return f"{int(match.group(1)):02d}:{match.group(2)}"


def time_zone(value: str) -> str:
    try:
        ZoneInfo(value.strip())
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ValueError("must be an IANA time zone name such as Europe/Berlin") from error
    return value.strip()


def day_spec(value: str) -> str:
    normal = value.lower().replace(" ", "")
    for part in normal.split(","):
        for day in part.split("-"):
            if day not in _DAYS:
                raise ValueError("must be days such as mon-fri or mon,wed,fri")
    return normal


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    slack_bot_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_client_id: str | None = None
    slack_client_secret: SecretStr | None = None
    slack_state_secret: SecretStr | None = None
    slack_api_url: str = "https://slack.com/api/"
    notes_dir: Path = BUNDLED_NOTES
    cache_dir: Path = Field(default=DEFAULT_CACHE, validation_alias="NOTESBOT_CACHE_DIR")
    database_url: str = f"sqlite:///{DEFAULT_DATABASE}"
    port: int = Field(default=3000, ge=1, le=65535)
    host: str = "0.0.0.0"
    digest_channel: str = ""
    digest_time: str = "09:00"
    digest_timezone: str = "UTC"
    digest_days: str = "mon-sun"
    digest_grace_minutes: int = Field(default=60, ge=0, le=24 * 60)
    log_level: str = "INFO"
    # How `notesbot serve` notices changed notes: "events" (inotify and the like: instant, local disks),
    # "poll" (stat every file every few seconds: network volumes, whose changes raise no local events), "off".
    notes_watch: Literal["events", "poll", "off"] = "events"
    # Where the vault is published (optional): every answer, digest and link preview then links to its
    # section there ("Read the note"), as the site's generator names its pages and headings.
    notes_site_url: str = ""
    notes_site_style: SiteStyle = "quartz"
    # After SIGTERM, how long `notesbot serve` takes to finish the answers it acknowledged before it exits: below
    # Kubernetes' 30 s default grace period, preStop pause included (whatever is left then, another replica answers).
    shutdown_grace_seconds: float = Field(default=20, ge=0, le=600)
    # Socket Mode: how long the link to Slack may stay down before /readyz fails and the process exits (to be
    # restarted by systemd, compose or Kubernetes: no load balancer notices a dead Socket Mode process).
    socket_mode_down_seconds: float = Field(default=60, gt=0, le=3600)

    @field_validator("slack_api_url")
    @classmethod
    def _trailing_slash(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http(s) URL such as https://slack.com/api/")
        return value if value.endswith("/") else value + "/"

    @field_validator("notes_site_url")
    @classmethod
    def _site(cls, value: str) -> str:
        return site_base_url(value) if value.strip() else ""

    @field_validator("digest_time")
    @classmethod
    def _clock(cls, value: str) -> str:
        return clock_time(value)

    @field_validator("digest_timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        return time_zone(value)

    @field_validator("digest_days")
    @classmethod
    def _days(cls, value: str) -> str:
        return day_spec(value)

    @field_validator("digest_channel")
    @classmethod
    def _channel_ids(cls, value: str) -> str:
        # Ids, not names: the history check that keeps the digest from posting twice needs ids.
        for channel in value.split(","):
            if channel.strip() and not re.fullmatch(r"[CGD][A-Z0-9]+", channel.strip()):
                raise ValueError(
                    f"{channel.strip()!r} is not a channel id: use ids such as C0123456789, comma-separated "
                    "(in Slack: the channel's details, at the bottom)"
                )
        return value

    @property
    def digest_channels(self) -> list[str]:
        return [c.strip() for c in self.digest_channel.split(",") if c.strip()]

    @property
    def note_site(self) -> NoteSite | None:
        """The published vault, or None when NOTES_SITE_URL is not set."""
        return NoteSite(self.notes_site_url, self.notes_site_style) if self.notes_site_url else None

    @property
    def oauth_enabled(self) -> bool:
        return bool(self.slack_client_id and self.slack_client_secret)

    def require_slack(self) -> None:
        """Raise `ConfigError` naming what a Slack-facing process is missing."""
        missing = []
        if self.slack_signing_secret is None and self.slack_app_token is None:
            missing.append("SLACK_SIGNING_SECRET (or SLACK_APP_TOKEN for Socket Mode)")
        if self.slack_bot_token is None and not self.oauth_enabled:
            missing.append("SLACK_BOT_TOKEN (or SLACK_CLIENT_ID and SLACK_CLIENT_SECRET for OAuth installs)")
        if self.oauth_enabled and self.slack_state_secret is None:
            missing.append("SLACK_STATE_SECRET (needed with SLACK_CLIENT_ID)")
        if missing:
            raise ConfigError(
                "missing settings: " + "; ".join(missing) + " (set them in the environment or in a .env file "
                "in this folder; README.md says how to create the Slack app)"
            )


class ConfigError(Exception):
    """A setting is missing or wrong; the message names it and says what is expected."""


def load_settings(**overrides: object) -> Settings:
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as error:
        lines = [
            f"{'.'.join(str(p) for p in e['loc']).upper()}: {e['msg'].removeprefix('Value error, ')}"
            for e in error.errors()
        ]
        raise ConfigError("invalid settings:\n  " + "\n  ".join(lines)) from None
