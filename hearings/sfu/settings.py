"""Which media plane the configuration asks for: the SFU (Janus) when ``JANUS_URL`` is set,
the browser mesh (as before Janus) when it is not."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class JanusSettings:
    """Where the server reaches Janus: its HTTP API's URL and its ``api_secret``."""

    url: str
    api_secret: str | None


def janus_settings(config: Mapping[str, Any]) -> JanusSettings | None:
    """The Janus to use, or None for the mesh (``JANUS_URL`` unset or empty).

    ``JANUS_URL`` may list several servers (comma-separated); for now every room goes to the
    first one (spreading rooms over the others is issue 14's later step)."""
    urls = [url.strip() for url in (config.get("JANUS_URL") or "").split(",") if url.strip()]
    if not urls:
        return None
    return JanusSettings(urls[0], config.get("JANUS_API_SECRET") or None)
