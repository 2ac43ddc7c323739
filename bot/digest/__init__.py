"""The topic of the day: choosing it, its message, its ledger, posting it once, scheduling it, and its commands."""
