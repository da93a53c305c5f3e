"""Narration requests: storage, the rules a request must pass, and how requests look."""
