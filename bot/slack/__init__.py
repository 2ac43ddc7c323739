"""Everything that faces Slack: answers as messages, the listeners and what they are given, posting, the Bolt
app and its server, installs, feedback, observation."""
