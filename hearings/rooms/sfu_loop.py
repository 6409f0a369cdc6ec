"""The SFU driver's plumbing: one asyncio loop thread per process (started on first use,
stopped with the hub) running the Janus clients, and one I/O thread for roster reads and
frames out (the bus may be Redis), so frames keep their order and the loop never blocks.

With several Janus servers (``HEARINGS_JANUS_URL`` a list) the sessions are spread over
them by id, so a session's room always lives on the same server, whichever process or
restart makes it."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable, Coroutine
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

from hearings.rooms.sfu_state import FeedRecorder, MediaRoom
from hearings.sfu.janus import JanusClient
from hearings.sfu.settings import JanusSettings

log = logging.getLogger(__name__)

T = TypeVar("T")


class DriverLoop:
    """The loop thread, the Janus clients and the I/O thread of the SFU driver."""

    def __init__(self, settings: JanusSettings, timeout: float = 10.0) -> None:
        self.settings = settings
        self.timeout = timeout
        self._guard = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._clients: list[JanusClient] = []
        #: Roster reads and frames out: one thread, so frames keep their order.
        self._io = ThreadPoolExecutor(1, thread_name_prefix="sfu-io")
        self._rooms: dict[int, MediaRoom] = {}  # on the loop only
        #: What records each session whose recording runs (on the loop only).
        self._recorders: dict[int, FeedRecorder] = {}
        #: Rooms rebuilding their media after Janus was lost.
        self._recoveries: set[asyncio.Task[None]] = set()

    def _running_loop(self) -> asyncio.AbstractEventLoop:
        with self._guard:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                self._clients = [
                    JanusClient(url, self.settings.api_secret, timeout=self.timeout)
                    for url in self.settings.urls
                ]
                self._thread = threading.Thread(
                    target=loop.run_forever, name="sfu-loop", daemon=True
                )
                self._thread.start()
                self._loop = loop
            return self._loop

    def client_for(self, session_id: int) -> JanusClient:
        """The Janus a session's media lives on (always the same one for a session)."""
        self._running_loop()  # the clients are made with the loop
        return self._clients[session_id % len(self._clients)]

    def _submit(self, work: Coroutine[Any, Any, None]) -> Future[None]:
        future = asyncio.run_coroutine_threadsafe(work, self._running_loop())
        future.add_done_callback(_report)
        return future

    def stop(self, wait: float = 15.0) -> None:
        """Destroy every VideoRoom of this process at Janus and stop the loop thread."""
        with self._guard:
            loop, thread, clients = self._loop, self._thread, self._clients
            self._loop, self._thread, self._clients = None, None, []
        if loop is None or thread is None:
            return
        done = asyncio.run_coroutine_threadsafe(self._close_all(clients), loop)
        with contextlib.suppress(Exception):  # logged by _close_all; stopping goes on
            done.result(wait)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(wait)
        if not thread.is_alive():
            loop.close()

    async def _close_all(self, clients: list[JanusClient]) -> None:
        for session_id in list(self._rooms):
            await self._close(session_id)
        for client in clients:
            await client.close()

    async def _close(self, session_id: int) -> None:
        raise NotImplementedError

    def videorooms(self, wait: float = 10.0) -> dict[int, int]:
        """This process's sessions with a VideoRoom at Janus, and its Janus room id."""
        with self._guard:
            loop = self._loop
        if loop is None:
            return {}

        async def read() -> dict[int, int]:
            return {s: m.videoroom.id for s, m in self._rooms.items() if m.videoroom is not None}

        return asyncio.run_coroutine_threadsafe(read(), loop).result(wait)

    async def _in_io(self, call: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._io, call, *args)

    async def _send(self, media: MediaRoom, peer_id: str, frame: dict[str, Any]) -> None:
        await self._in_io(media.room.send_to, [peer_id], frame)


def _report(future: Future[None]) -> None:
    """Log what a piece of the driver's work failed with (it never reaches a client)."""
    if not future.cancelled() and future.exception() is not None:
        log.error("sfu: work failed", exc_info=future.exception())
