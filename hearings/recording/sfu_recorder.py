"""Recording in SFU mode: Janus records every feed itself (``.mjr``, nothing decoded) and
this process turns what it wrote into segments.

A segment is one participant's stretch of feed (video and audio in one WebM,
``NNNN-p<participant>.webm``): it opens when the recording starts or resumes, or when the
participant's feed comes up, and closes when they leave, at a pause, at the stop, every
``SEGMENT_SECONDS`` (a new one opens at once), or when Janus is lost. Closing halts Janus's
recorder of that feed (``configure record:false``), ``mjr.convert`` makes the WebM and the
sink hashes it into the custody log, exactly as for the aiortc recorder's segments.

``JanusRecorders`` has the same face as ``supervisor.Recorders`` (``start``, ``pause``,
``stop``, ``position`` …), so the witness services drive either. Its work runs on the SFU
driver's loop (the feeds' Janus handles live there): ``start`` only hands it over, because it
is called on a room's thread while the room is locked, and the driver's loop may be waiting
for that room. Reports to the database go through one thread of their own, in order;
conversions through another pool, never on the loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from hearings.logs import event
from hearings.recording import mjr
from hearings.recording.supervisor import Sink
from hearings.rooms.bus import PeerInfo
from hearings.rooms.sfu_room import SfuDriver
from hearings.sfu.janus import JanusError
from hearings.sfu.videoroom import Publisher

log = logging.getLogger(__name__)

#: How long after a segment opens Janus must have made its files, seconds (Janus says
#: nothing when it can't: the check is the only way to know).
OPEN_CHECK_SECONDS = 3.0
#: How often a run looks whether a segment is due to rotate, and beats.
TICK_SECONDS = 0.5


class JanusSink(Sink, Protocol):
    """What the SFU recorder reports beyond the aiortc recorder's reports: a failure."""

    def failed(self, rid: int, cause: str, n: int | None) -> None: ...


@dataclass
class Stretch:
    """One participant's feed being recorded into one segment."""

    n: int
    peer: PeerInfo
    publisher: Publisher
    #: Where Janus writes (``<base>-video-<mid>.mjr`` …) and the segment's file name.
    base: Path
    filename: str
    opened: float = field(default_factory=time.monotonic)


@dataclass
class JanusRun:
    """The recording of one session at Janus: the live feeds and their open segments."""

    recording_id: int
    session_id: int
    folder: Path
    scratch: Path
    segment_seconds: float
    next_n: int
    paused: bool = False
    #: A gap is being logged: the next segment that opens logs ``resumed``.
    interrupted: bool = False
    stopping: bool = False
    started: float = field(default_factory=time.monotonic)
    feeds: dict[str, tuple[PeerInfo, Publisher]] = field(default_factory=dict)
    stretches: dict[str, Stretch] = field(default_factory=dict)
    #: Closed segments still being converted and reported.
    closing: set[asyncio.Future[Any]] = field(default_factory=set)
    opened_n: int = 0
    opening: asyncio.Event = field(default_factory=asyncio.Event)
    ticker: asyncio.Task[None] | None = None


class RunRecorder:
    """A run as the SFU driver sees it (``rooms.sfu_state.FeedRecorder``)."""

    def __init__(self, owner: JanusRecorders, run: JanusRun) -> None:
        self.owner, self.run = owner, run

    async def feed_up(self, peer: PeerInfo, publisher: Publisher) -> None:
        await self.owner.feed_up(self.run, peer, publisher)

    async def feed_down(self, peer_id: str) -> None:
        await self.owner.feed_down(self.run, peer_id)

    async def media_lost(self, reason: str) -> None:
        await self.owner.media_lost(self.run, reason)


class JanusRecorders:
    """Start, pause and stop the Janus recordings of this process's sessions."""

    def __init__(self, sink: JanusSink, driver: SfuDriver, scratch: Path) -> None:
        self.sink, self.driver, self.scratch = sink, driver, scratch
        self.runs: dict[int, JanusRun] = {}
        self._reports = ThreadPoolExecutor(1, thread_name_prefix="sfu-recording-reports")
        self._conversions = ThreadPoolExecutor(2, thread_name_prefix="sfu-recording-convert")

    # --- control, from request and room threads -----------------------------------------
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
        """Record the session's feeds at Janus from now (``url`` is the aiortc recorder's:
        not needed here). Returns at once; the feeds are taken up on the driver's loop."""
        if session_id is None:
            raise ValueError("the SFU recorder needs the session's id")
        if not mjr.available():
            raise RuntimeError("janus-pp-rec is not installed (Debian's janus-tools)")
        if recording_id in self.runs:
            return
        scratch = self.scratch / folder.parent.name / folder.name
        folder.mkdir(parents=True, exist_ok=True)
        scratch.mkdir(parents=True, exist_ok=True)
        run = JanusRun(recording_id, session_id, folder, scratch, segment_seconds, first_n,
                       paused=paused, interrupted=interrupted)  # fmt: skip
        self.runs[recording_id] = run
        self.driver.submit(self._begin(run))

    def running(self, recording_id: int) -> bool:
        """Whether this process records that recording."""
        return recording_id in self.runs

    def paused(self, recording_id: int) -> bool | None:
        """Whether the run is paused; None if not here."""
        run = self.runs.get(recording_id)
        return None if run is None else run.paused

    def position(self, recording_id: int) -> tuple[int | None, float | None, float] | None:
        """The segment opened last, seconds into it, seconds since the start; None if not here."""
        run = self.runs.get(recording_id)
        if run is None:
            return None
        now = time.monotonic()
        latest = max(run.stretches.values(), key=lambda s: s.n, default=None)
        if latest is None:
            return None, None, now - run.started
        return latest.n, now - latest.opened, now - run.started

    def wait_segment(self, recording_id: int, n: int, timeout: float) -> bool:
        """Block until segment ``n`` (or a later one) is being written."""
        run = self.runs.get(recording_id)
        if run is None:
            return False

        async def wait() -> None:
            while run.opened_n < n:
                run.opening.clear()
                await run.opening.wait()

        try:
            self.driver.submit(asyncio.wait_for(wait(), timeout)).result(timeout + 1)
        except TimeoutError:
            return False
        return True

    def pause(self, recording_id: int, paused: bool) -> None:
        """Close every open segment and record nothing until resumed (or resume)."""
        run = self.runs.get(recording_id)
        if run is not None:
            self.driver.submit(self._pause(run, paused)).result(60)

    def stop(self, recording_id: int, timeout: float = 60.0) -> None:
        """End the recording: every segment is closed and reported on return (TimeoutError
        after ``timeout``: it carries on closing)."""
        run = self.runs.get(recording_id)
        if run is not None:
            future = self.driver.submit(self._stop(run))
            try:
                future.result(timeout)
            except TimeoutError:
                raise TimeoutError(f"recording {recording_id} is still closing") from None

    def kill(self, recording_id: int, reason: str) -> None:
        """The aiortc recorder's drill; at the SFU the drill is to kill Janus itself."""
        raise NotImplementedError("in SFU mode Janus records: stop Janus to drill a crash")

    def shutdown(self) -> None:
        """Stop every run (process exit)."""
        for recording_id in list(self.runs):
            with contextlib.suppress(Exception):
                self.stop(recording_id)

    # --- on the driver's loop -------------------------------------------------------------
    async def _report(self, call: Any, *args: Any) -> None:
        """A report to the database, in order with the others, off the loop."""
        try:
            await asyncio.wrap_future(self._reports.submit(call, *args))
        except Exception:
            log.exception("recording: a report failed: %s", getattr(call, "__name__", call))

    async def _begin(self, run: JanusRun) -> None:
        run.ticker = asyncio.create_task(self._tick(run), name=f"recording-{run.recording_id}")
        await self.driver.set_recorder(run.session_id, RunRecorder(self, run))

    async def feed_up(self, run: JanusRun, peer: PeerInfo, publisher: Publisher) -> None:
        old = run.feeds.get(peer.peer_id)
        if old is not None and old[1] is publisher:
            return  # told twice of the same feed
        if peer.peer_id in run.stretches:
            await self._close(run, peer.peer_id)
        run.feeds[peer.peer_id] = (peer, publisher)
        if not run.paused and not run.stopping:
            await self._open(run, peer.peer_id)

    async def feed_down(self, run: JanusRun, peer_id: str) -> None:
        await self._close(run, peer_id)
        run.feeds.pop(peer_id, None)

    async def media_lost(self, run: JanusRun, reason: str) -> None:
        """Janus is gone: what it wrote of the open segments is kept as partial, the gap
        logged; the feeds come back through ``feed_up`` once the room's media is rebuilt."""
        run.interrupted = True
        await self._report(self.sink.interrupted, run.recording_id, reason, None)
        for peer_id in list(run.stretches):
            await self._close(run, peer_id, status="partial", halt=False)
        run.feeds.clear()

    async def _open(self, run: JanusRun, peer_id: str) -> None:
        peer, publisher = run.feeds[peer_id]
        n = run.next_n
        run.next_n += 1
        who = peer.participant_id if peer.participant_id is not None else peer.peer_id
        name = f"{n:04d}-p{who}"
        stretch = Stretch(n, peer, publisher, run.scratch / name, f"{name}.webm")
        try:
            await publisher.configure(record=True, filename=str(stretch.base))
        except JanusError as error:
            cause = f"Janus would not record {peer.name}'s feed: {error}"
            await self._report(self.sink.failed, run.recording_id, cause, None)
            return
        run.stretches[peer_id] = stretch
        await self._report(self.sink.segment_opened, run.recording_id, n, stretch.filename,
                           streams_of(peer, publisher))  # fmt: skip
        if run.interrupted:
            run.interrupted = False
            await self._report(self.sink.resumed, run.recording_id, n)
        run.opened_n = max(run.opened_n, n)
        run.opening.set()
        asyncio.get_running_loop().call_later(
            OPEN_CHECK_SECONDS, lambda: asyncio.ensure_future(self._check_opened(run, stretch))
        )

    async def _check_opened(self, run: JanusRun, stretch: Stretch) -> None:
        if run.stretches.get(stretch.peer.peer_id) is not stretch or mjr.made(stretch.base):
            return
        # Janus could not open its files (a folder it may not write): Art. 4, said and logged.
        run.stretches.pop(stretch.peer.peer_id, None)
        cause = f"Janus wrote no file for {stretch.peer.name}'s feed (is {run.scratch} writable?)"
        event(log, "recording.janus-no-file", logging.ERROR, recording=run.recording_id,
              segment=stretch.n)  # fmt: skip
        await self._report(self.sink.failed, run.recording_id, cause, stretch.n)

    async def _close(
        self, run: JanusRun, peer_id: str, *, status: str = "closed", halt: bool = True
    ) -> None:
        """Close a participant's open segment; converted and reported in the background
        (``run.closing``) unless the caller awaits it."""
        stretch = run.stretches.pop(peer_id, None)
        if stretch is None:
            return
        if halt:
            with contextlib.suppress(JanusError):  # the feed gone already: Janus closed it
                await stretch.publisher.configure(record=False)
        loop = asyncio.get_running_loop()
        work = loop.run_in_executor(self._conversions, mjr.convert, stretch.base,
                                    run.folder / stretch.filename)  # fmt: skip
        done = asyncio.ensure_future(self._closed(run, stretch, status, work))
        run.closing.add(done)
        done.add_done_callback(run.closing.discard)

    async def _closed(
        self, run: JanusRun, stretch: Stretch, status: str, work: asyncio.Future[list[str]]
    ) -> None:
        try:
            kinds = await work
        except mjr.ConversionError as error:
            await self._report(self.sink.failed, run.recording_id, str(error), stretch.n)
            return
        await self._report(self.sink.segment_closed, run.recording_id, stretch.n,
                           stretch.filename, status if kinds else "empty")  # fmt: skip

    async def _pause(self, run: JanusRun, paused: bool) -> None:
        run.paused = paused
        if paused:
            for peer_id in list(run.stretches):
                await self._close(run, peer_id)
        else:
            for peer_id in list(run.feeds):
                if peer_id not in run.stretches:
                    await self._open(run, peer_id)

    async def _tick(self, run: JanusRun) -> None:
        """Rotate segments as they reach ``segment_seconds``; renew the hold on the run."""
        beat = time.monotonic()
        while not run.stopping:
            await asyncio.sleep(TICK_SECONDS)
            for peer_id, stretch in list(run.stretches.items()):
                if time.monotonic() - stretch.opened >= run.segment_seconds:
                    await self._close(run, peer_id)
                    if peer_id in run.feeds and not run.paused and not run.stopping:
                        await self._open(run, peer_id)
            if time.monotonic() - beat >= float(self.sink.heartbeat_seconds):
                beat = time.monotonic()
                await self._report(self.sink.heartbeat, [run.recording_id])

    async def _stop(self, run: JanusRun) -> None:
        run.stopping = True
        if run.ticker is not None:
            run.ticker.cancel()
        await self.driver.set_recorder(run.session_id, None)
        for peer_id in list(run.stretches):
            await self._close(run, peer_id)
        await asyncio.gather(*run.closing, return_exceptions=True)
        if self.runs.get(run.recording_id) is run:
            del self.runs[run.recording_id]
        await self._report(self.sink.release, run.recording_id)


def streams_of(peer: PeerInfo, publisher: Publisher) -> list[dict[str, Any]]:
    """Which stream of the segment's file is whose: video, then audio, as published."""
    kinds = [s.get("type") for s in publisher.streams if not s.get("disabled")]
    ordered = [k for k in ("video", "audio") if k in kinds]
    return [
        {"index": index, "kind": kind, "participant_id": peer.participant_id,
         "role": peer.role, "name": peer.name}
        for index, kind in enumerate(ordered)
    ]  # fmt: skip
