"""Narrator: a Discord bot for narrated-article podcasts."""

__version__ = "0.1.0"
# How the bot names itself to feed, audio and page hosts (no project URL: none is published).
USER_AGENT = f"Narrator/{__version__} (Discord podcast bot)"
