"""The topic of the day: choosing it, posting it once, scheduling it, and its commands."""
