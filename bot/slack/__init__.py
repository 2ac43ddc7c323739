"""Everything that faces Slack: messages built from hits, the Bolt app, its server, installs, feedback."""
