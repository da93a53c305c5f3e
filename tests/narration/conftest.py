"""Fixtures shared with tests/core: a local HTTP server."""

from tests.core.conftest import serve  # noqa: F401  (re-exported fixture)
