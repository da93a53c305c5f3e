"""A throwaway certificate authority for the TLS voice gateway (discord.py hard-codes `wss://`).

The bot trusts it in one of two ways:

* a bot *subprocess*: start it with `SSL_CERT_FILE=<ca_file>` in its environment. aiohttp builds its
  default SSL context when it is imported, so the variable must be there when the process starts;
* an *in-process* client: give it `connector=tls.client_connector()` (an `aiohttp.TCPConnector` whose
  SSL context trusts the CA). discord.py's `HTTPClient` opens the voice websocket through that session.

The same CA can sign other test servers (an HTTPS audio host, say): `tls.ca.issue_cert("127.0.0.1")`.
"""

from __future__ import annotations

import ssl
from pathlib import Path

import aiohttp
import trustme

HOSTS = ("127.0.0.1", "localhost")


class TestTLS:
    """A CA plus a server certificate for 127.0.0.1/localhost; `ca_file` is the CA as PEM."""

    __test__ = False  # not a pytest class

    def __init__(self, cert_dir: Path) -> None:
        self.ca = trustme.CA(organization_name="Narrator emulator test CA")
        self.server_cert = self.ca.issue_cert(*HOSTS)
        cert_dir.mkdir(parents=True, exist_ok=True)
        self.ca_file = cert_dir / "emulator-ca.pem"
        self.ca.cert_pem.write_to_path(str(self.ca_file))

    def server_context(self) -> ssl.SSLContext:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.server_cert.configure_cert(ctx)
        return ctx

    def client_context(self) -> ssl.SSLContext:
        """Trusts only the test CA (what `SSL_CERT_FILE=<ca_file>` gives a fresh process)."""
        return ssl.create_default_context(cafile=str(self.ca_file))

    def client_connector(self) -> aiohttp.TCPConnector:
        """For `discord.Client(connector=...)`; call it inside the running event loop."""
        return aiohttp.TCPConnector(limit=0, ssl=self.client_context())

    def env(self) -> dict[str, str]:
        """Environment for a bot subprocess (and its ffmpeg children) that must trust the CA."""
        return {"SSL_CERT_FILE": str(self.ca_file)}
