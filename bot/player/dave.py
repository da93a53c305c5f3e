"""Whether this installation can speak DAVE, the end-to-end encrypted voice Discord requires on
voice channels (close 4017 otherwise). discord.py does the protocol itself through `davey`."""

from __future__ import annotations


def dave_missing() -> str | None:
    """Why discord.py would offer no DAVE version in its voice IDENTIFY; None when it can."""
    try:
        import davey
    except ImportError:
        return "the davey package is missing"
    if getattr(davey, "DAVE_PROTOCOL_VERSION", 0) < 1:
        return f"davey {getattr(davey, '__version__', '?')} offers no DAVE protocol version"
    return None
