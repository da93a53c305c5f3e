"""Personal follows: which members a new episode concerns, and their DMs' exactly-once record."""
