"""Narrator: a Discord bot for narrated-article podcasts."""

__version__ = "0.1.0"
PROJECT_URL = "https://github.com/narrator-bot/narrator"
