"""The Slack listeners, one module per payload type; `register_listeners` is the one place they are registered.

- `commands`: the `/notes` slash command (help, answers, `/notes digest ...`);
- `actions`: the buttons of an answer (share, next match, dismiss, 👍 / 👎);
- `events`: @mentions, direct messages, App Home, and uninstalls in OAuth mode.

A new listener goes into the module of its payload type, registered by that module's `register`.
"""

from __future__ import annotations

from slack_bolt import App

from bot.slack.deps import ListenerDeps
from bot.slack.listeners import actions, commands, events


def register_listeners(app: App, deps: ListenerDeps) -> None:
    commands.register(app, deps)
    actions.register(app, deps)
    events.register(app, deps)
