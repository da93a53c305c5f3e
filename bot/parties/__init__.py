"""Listening parties: a Discord scheduled event that plays an episode at its start time."""
