"""The Slack listeners, one module per payload type; `register_listeners` is the one place they are registered.

- `commands`: the `/notes` slash command (help, answers, `/notes digest ...`);
- `actions`: the buttons of an answer (share, next match, dismiss, 👍 / 👎);
- `events`: @mentions, direct messages, App Home, and uninstalls in OAuth mode;
- `assistant`: the assistant panel (Bolt's `Assistant` middleware: threads started, messages in them);
- `shortcuts`: "Find in notes" on a message, "Search the notes" from anywhere;
- `views`: the search modal (its opening button, each Enter in it, its Search button).

A new listener goes into the module of its payload type, registered by that module's `register`.
"""

from __future__ import annotations

from slack_bolt import App

from bot.slack.deps import ListenerDeps
from bot.slack.listeners import actions, assistant, commands, events, shortcuts, views


def register_listeners(app: App, deps: ListenerDeps) -> None:
    commands.register(app, deps)
    actions.register(app, deps)
    events.register(app, deps)
    assistant.register(app, deps)
    shortcuts.register(app, deps)
    views.register(app, deps)
