"""Podcast feeds: fetch (`fetch`, `backoff`) and parse (`parse.parse_feed` -> `model.Feed`).

Pure: nothing in this package imports discord.
"""
