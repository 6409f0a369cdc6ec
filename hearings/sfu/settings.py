"""Which media plane the configuration asks for: the SFU (Janus) when ``JANUS_URL`` is set,
the browser mesh (as before Janus) when it is not."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class JanusSettings:
    """Where the server reaches Janus: its HTTP API's URLs (one per server; a session's
    media lives on one of them) and their ``api_secret``."""

    urls: tuple[str, ...]
    api_secret: str | None

    @property
    def url(self) -> str:
        """The first server's URL."""
        return self.urls[0]


def janus_settings(config: Mapping[str, Any]) -> JanusSettings | None:
    """The Janus to use, or None for the mesh (``JANUS_URL`` unset or empty).

    ``JANUS_URL`` may list several servers (comma-separated): sessions are spread over them,
    a session's media always on the same one."""
    urls = [url.strip() for url in (config.get("JANUS_URL") or "").split(",") if url.strip()]
    if not urls:
        return None
    return JanusSettings(tuple(urls), config.get("JANUS_API_SECRET") or None)
