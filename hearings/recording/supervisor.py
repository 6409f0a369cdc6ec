"""The recorders of this process: one asyncio loop thread, one supervised peer per recording.

Flask views are synchronous and aiortc needs a long-lived loop, so the loop lives in a
thread of its own. A supervisor runs each recording's peer; when a run ends other than by
``stop`` (a crash, the connection lost) it reports the interruption with its reason and
rejoins the room with a fresh token, numbering segments on. While runs exist, a heartbeat
renews this process's hold on them (see ``hearings.witness.leases``).

aiortc is imported only when a run starts: an app that records in a separate process
(``RECORDER_MODE=external``) never loads it.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from hearings.recording.peer import Counter, RecorderPeer

log = logging.getLogger(__name__)

#: Seconds between rejoin attempts after an interruption (doubling up to the last).
RETRY_SECONDS = (0.5, 1.0, 2.0, 5.0, 10.0, 30.0)
#: Close codes after which rejoining can't succeed (bad token, not allowed, out of window).
FINAL_CODES = (4401, 4403, 4408)


class Sink(Protocol):
    """What the recorder reports, written to the database by the witness services."""

    #: How often the hold on running recordings is renewed, seconds.
    @property
    def heartbeat_seconds(self) -> float: ...

    def token(self, recording_id: int) -> str | None: ...
    def segment_opened(self, rid: int, n: int, filename: str, streams: list[Any]) -> None: ...
    def segment_closed(self, rid: int, n: int, filename: str, status: str) -> None: ...
    def interrupted(self, rid: int, reason: str, open_n: int | None) -> None: ...
    def resumed(self, rid: int, n: int) -> None: ...
    def heartbeat(self, recording_ids: list[int]) -> None: ...
    def release(self, rid: int) -> None: ...


@dataclass
class Run:
    """The supervised recorder of one recording."""

    recording_id: int
    url: str
    folder: Path
    segment_seconds: float
    counter: Counter
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    peer: RecorderPeer | None = None
    task: asyncio.Task[None] | None = None
    #: The last segment opened, and an event set at every opening.
    opened_n: int = 0
    opening: asyncio.Event = field(default_factory=asyncio.Event)
    interrupted: bool = False
    #: Paused by the officer: a rejoined peer stays paused too.
    paused: bool = False


class Recorders:
    """Start, pause, stop and (for tests and drills) kill the recorders of this process."""

    def __init__(self, sink: Sink) -> None:
        self.sink = sink
        self.runs: dict[int, Run] = {}
        self._heartbeat: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    # --- the loop thread --------------------------------------------------------------
    def loop(self) -> asyncio.AbstractEventLoop:
        """The recorders' event loop, started on first use."""
        with self._lock:
            if self._loop is None:
                self._loop = asyncio.new_event_loop()
                self._thread = threading.Thread(
                    target=self._loop.run_forever, name="witness-recorders", daemon=True
                )
                self._thread.start()
            return self._loop

    def _call(self, coroutine: Any, timeout: float = 60.0) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop()).result(timeout)

    async def _blocking(self, fn: Callable[..., Any], *args: Any) -> Any:
        # The database work of a report runs off the loop, so media never waits on a lock.
        return await asyncio.get_running_loop().run_in_executor(None, fn, *args)

    # --- control, from request threads ------------------------------------------------
    def start(
        self,
        recording_id: int,
        url: str,
        folder: Path,
        segment_seconds: float,
        first_n: int = 1,
        *,
        interrupted: bool = False,
        paused: bool = False,
        session_id: int | None = None,
    ) -> None:
        """Start (or restart) the recorder of a recording; ``interrupted``: it takes over
        after a gap (its first segment logs ``resumed``); ``paused``: it waits to record.
        (``session_id``: the SFU recorder's; this one joins the room at ``url``.)"""
        folder.mkdir(parents=True, exist_ok=True)
        self._call(
            self._start(recording_id, url, folder, segment_seconds, first_n, interrupted, paused)
        )

    async def _start(
        self,
        recording_id: int,
        url: str,
        folder: Path,
        seconds: float,
        first_n: int,
        interrupted: bool,
        paused: bool,
    ) -> None:
        from hearings.recording.peer import Counter

        if recording_id in self.runs:
            return
        run = Run(recording_id, url, folder, seconds, Counter(next_n=first_n))
        run.interrupted, run.paused = interrupted, paused
        self.runs[recording_id] = run
        run.task = asyncio.create_task(self._supervise(run))
        if self._heartbeat is None or self._heartbeat.done():
            self._heartbeat = asyncio.create_task(self._beat())

    async def _beat(self) -> None:
        """Renew the hold on every run of this process until none is left."""
        while self.runs:
            await asyncio.sleep(self.sink.heartbeat_seconds)
            try:
                await self._blocking(self.sink.heartbeat, list(self.runs))
            except Exception:  # a database hiccup: the next beat tries again
                log.exception("recorder heartbeat failed")

    def running(self, recording_id: int) -> bool:
        """Whether this process records that recording."""
        return recording_id in self.runs

    def position(self, recording_id: int) -> tuple[int | None, float | None, float] | None:
        """The open segment, seconds into it, and seconds since the start; None if not here."""
        run = self.runs.get(recording_id)
        if run is None or run.peer is None:
            return None
        return run.peer.position()

    def wait_segment(self, recording_id: int, n: int, timeout: float) -> bool:
        """Block until segment ``n`` (or a later one) is being written."""

        async def wait() -> None:
            run = self.runs[recording_id]
            while run.opened_n < n:
                run.opening.clear()
                await run.opening.wait()

        try:
            self._call(asyncio.wait_for(wait(), timeout), timeout + 1)
        except (TimeoutError, KeyError):
            return False
        return True

    def paused(self, recording_id: int) -> bool | None:
        """Whether this process's run of that recording is paused; None if not here."""
        run = self.runs.get(recording_id)
        return None if run is None else run.paused

    def pause(self, recording_id: int, paused: bool) -> None:
        """Close the open segment and write nothing until resumed (or resume)."""
        run = self.runs.get(recording_id)
        if run is not None:
            self._call(self._pause(run, paused))

    async def _pause(self, run: Run, paused: bool) -> None:
        run.paused = paused
        if run.peer is not None:
            await run.peer.pause(paused)

    def stop(self, recording_id: int, timeout: float = 60.0) -> None:
        """End the recording cleanly: the last segment is closed and reported on return
        (TimeoutError after ``timeout`` seconds: it carries on closing)."""
        run = self.runs.get(recording_id)
        if run is not None:
            self._call(self._stop(run), timeout)

    async def _stop(self, run: Run) -> None:
        run.stop.set()
        if run.peer is not None:
            await run.peer.stop()
        if run.task is not None:
            await asyncio.gather(run.task, return_exceptions=True)

    def kill(self, recording_id: int, reason: str) -> None:
        """Crash the current run on purpose (a drill): the supervisor must recover."""
        run = self.runs.get(recording_id)
        if run is not None and run.peer is not None:
            self._call(self._kill(run, reason))

    async def _kill(self, run: Run, reason: str) -> None:
        peer = run.peer
        assert peer is not None and run.task is not None
        open_n = await peer.crash()
        run.interrupted = True
        await self._blocking(self.sink.interrupted, run.recording_id, reason, open_n)

    def shutdown(self) -> None:
        """Stop every recorder (process exit)."""
        for recording_id in list(self.runs):
            self.stop(recording_id)

    # --- supervision, on the loop -----------------------------------------------------
    async def _supervise(self, run: Run) -> None:
        try:
            await self._run_until_stopped(run)
        finally:
            if self.runs.get(run.recording_id) is run:
                del self.runs[run.recording_id]
            await self._blocking(self.sink.release, run.recording_id)

    async def _run_until_stopped(self, run: Run) -> None:
        from hearings.recording.peer import RecorderPeer

        attempt = 0
        rid = run.recording_id

        async def opened(n: int, filename: str, streams: list[Any]) -> None:
            await self._blocking(self.sink.segment_opened, rid, n, filename, streams)
            if run.interrupted:
                run.interrupted = False
                await self._blocking(self.sink.resumed, rid, n)
            run.opened_n = n
            run.opening.set()

        async def closed(n: int, filename: str, status: str) -> None:
            await self._blocking(self.sink.segment_closed, rid, n, filename, status)

        while not run.stop.is_set():
            token = await self._blocking(self.sink.token, rid)
            if run.stop.is_set():
                return  # stopped while the token was being issued: no peer to stop
            if token is None:
                await self._blocking(self.sink.interrupted, rid, "the room refuses", None)
                return
            peer = RecorderPeer(run.url, token, run.folder, run.segment_seconds, run.counter,
                                opened, closed)  # fmt: skip
            peer.paused = run.paused
            run.peer = peer
            try:
                await peer.run()
                reason = None if peer.stopping else "the signaling connection ended"
            except Exception as error:  # any end but stop is an interruption, logged
                reason = f"{type(error).__name__}: {error}"
            if run.stop.is_set():
                return
            if peer.stopping:  # killed: the drill already reported it
                reason = None
            else:
                open_n = await peer.crash()
                run.interrupted = True
                await self._blocking(self.sink.interrupted, rid, reason, open_n)
            if peer.ws is not None and peer.ws.close_code in FINAL_CODES:
                return
            delay = RETRY_SECONDS[min(attempt, len(RETRY_SECONDS) - 1)]
            attempt = attempt + 1 if not peer.joined.is_set() else 0
            try:
                await asyncio.wait_for(run.stop.wait(), delay)
                return
            except TimeoutError:
                pass
