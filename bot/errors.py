"""Errors any layer can raise to show a member one clear sentence instead of a stack trace."""

from __future__ import annotations


class UserFacingError(Exception):
    """Raised with a message that is safe and useful to show to the member who ran the command."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
