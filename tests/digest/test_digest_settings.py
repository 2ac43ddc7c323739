"""The digest's settings are checked when the bot starts, with a message naming what is wrong."""

from __future__ import annotations

import pytest

from bot.config import ConfigError, load_settings


def test_the_digest_settings_are_read_and_normalised() -> None:
    settings = load_settings(
        _env_file=None, digest_channel="C0123ABC, G0456DEF", digest_time="9:05", digest_days="Mon-Fri"
    )
    assert settings.digest_channels == ["C0123ABC", "G0456DEF"]
    assert (settings.digest_time, settings.digest_days, settings.digest_timezone) == ("09:05", "mon-fri", "UTC")


@pytest.mark.parametrize(
    ("setting", "value", "message"),
    [
        ("digest_channel", "#general", "DIGEST_CHANNEL: '#general' is not a channel id"),
        ("digest_time", "9am", "DIGEST_TIME: must be a time of day as HH:MM"),
        ("digest_timezone", "Berlin", "DIGEST_TIMEZONE: must be an IANA time zone name"),
        ("digest_days", "weekdays", "DIGEST_DAYS: must be days such as mon-fri"),
        ("digest_grace_minutes", "-5", "DIGEST_GRACE_MINUTES"),
    ],
)
def test_a_wrong_digest_setting_is_refused_at_start_with_a_clear_message(
    setting: str, value: str, message: str
) -> None:
    with pytest.raises(ConfigError) as refused:
        load_settings(_env_file=None, **{setting: value})
    assert message in str(refused.value)
