"""notesbot: a Slack app that answers from a vault of markdown video notes."""
