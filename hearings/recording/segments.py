"""One segment file: every participant's audio and video, encoded into fragmented MP4.

aiortc's ``MediaRecorder`` sometimes lost a participant's whole video for a segment: it
sets a video stream's size from that stream's first frame, but the container (and with
it every codec) opens on the first packet of *any* stream, and PyAV refuses to change
the size of an open codec ("Cannot change width after codec is open"). The exception
ended that track's task silently and the segment had no frames of that person. Here
each video stream gets its size before the file opens (the recorder keeps the last size
of every source; a frame of another size is scaled by the encoder), and a frame that
can't be written is logged and counted, never the end of its stream. Encoding and
muxing run on one worker thread per file, so the event loop keeps receiving media while
an encoder works or flushes at a segment's end.

PyAV creates the file only when the first packet is muxed: a segment that closes before
any media reached it (stopped or paused right after it opened) has no file at all, and
says so (``written``), rather than being reported as a file to hash.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
from aiortc import MediaStreamTrack
from aiortc.mediastreams import MediaStreamError

log = logging.getLogger(__name__)

#: Fragmented MP4 (H.264 + AAC) flushed every second: a killed recorder leaves a file that
#: plays up to its last fragment (FACTS: 8.4 of 10 s). MP4 costs less CPU than WebM.
CONTAINER = "mp4"
CRASH_SAFE_OPTIONS = {
    "movflags": "frag_keyframe+empty_moov+default_base_moof",
    "frag_duration": "1000000",
    "flush_packets": "1",
}
#: ``zerolatency``: no lookahead, so each frame reaches the file at once (a crash loses
#: no encoder backlog) and a segment's end flushes nothing much; ``veryfast`` keeps three
#: streams in real time on two cores.
VIDEO_OPTIONS = {"preset": "veryfast", "tune": "zerolatency"}
#: WebRTC video clock: frames keep their own timestamps (no rounding to 1/30 s, which
#: made two close frames collide and the muxer refuse the second).
VIDEO_TIME_BASE = Fraction(1, 90000)
AUDIO_RATE = 48000
#: Used only if a source has sent no frame yet when its segment opens.
DEFAULT_SIZE = (640, 480)


@dataclass
class Input:
    """A track to write, and (video) the size its frames last had."""

    track: MediaStreamTrack
    size: tuple[int, int] | None = None


class SegmentFile:
    """Write the given tracks into one file until ``stop`` (or ``abort``, as a crash)."""

    def __init__(self, path: Path, inputs: list[Input]) -> None:
        self.path = path
        self.container: Any = av.open(
            str(path), mode="w", format=CONTAINER, options=CRASH_SAFE_OPTIONS
        )
        self.pairs: list[tuple[MediaStreamTrack, Any]] = []
        for item in inputs:
            stream: Any
            if item.track.kind == "audio":
                stream = self.container.add_stream("aac", rate=AUDIO_RATE)
            else:
                stream = self.container.add_stream("libx264", rate=30, options=VIDEO_OPTIONS)
                stream.width, stream.height = item.size or DEFAULT_SIZE
                stream.pix_fmt = "yuv420p"
                stream.codec_context.time_base = VIDEO_TIME_BASE
            self.pairs.append((item.track, stream))
        #: Frames written per stream index, and frames refused by the encoder or muxer.
        self.frames: Counter[int] = Counter()
        self.failures = 0
        #: Packets muxed: the file exists from the first one on.
        self.packets = 0
        self._abandoned = False
        self._executor = ThreadPoolExecutor(1, thread_name_prefix=f"segment-{path.stem}")
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def written(self) -> bool:
        """Whether any media reached the file (without it there is no file)."""
        return self.packets > 0

    def start(self) -> None:
        """Begin reading every track."""
        self._tasks = [asyncio.create_task(self._pump(t, s)) for t, s in self.pairs]

    async def _pump(self, track: MediaStreamTrack, stream: Any) -> None:
        loop = asyncio.get_running_loop()
        last: float | None = None
        while True:
            try:
                frame: Any = await track.recv()
            except MediaStreamError:
                return
            moment = frame.time
            if moment is not None and last is not None and moment <= last:
                continue  # a repeated or late frame: the muxer would refuse it
            last = moment
            await loop.run_in_executor(self._executor, self._write, stream, frame)

    def _mux(self, packets: list[Any]) -> None:
        if packets:
            self.container.mux(packets)
            self.packets += len(packets)

    def _write(self, stream: Any, frame: Any) -> None:
        """Encode and mux one frame (on the file's worker thread)."""
        if self._abandoned:
            return  # crashed: what was queued is never written
        try:
            self._mux(stream.encode(frame))
        except (av.FFmpegError, ValueError, RuntimeError) as error:
            self.failures += 1
            log.warning("%s stream %d: frame not written: %s", self.path.name, stream.index, error)
        else:
            self.frames[stream.index] += 1

    async def stop(self) -> None:
        """A clean end: stop reading, flush every encoder, finish the file."""
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        loop = asyncio.get_running_loop()
        try:
            await loop.run_in_executor(self._executor, self._finish)
        finally:
            self._executor.shutdown(wait=False)

    def _finish(self) -> None:
        for _, stream in self.pairs:
            try:
                self._mux(stream.encode(None))
            except (av.FFmpegError, ValueError, RuntimeError) as error:
                log.warning("%s stream %d: flush failed: %s", self.path.name, stream.index, error)
        self.container.close()
        if not self.written:
            log.info("%s: no media reached it; no file was written", self.path.name)
            return
        silent = [s.index for _, s in self.pairs if not self.frames[s.index]]
        if silent:
            log.warning("%s: no frames for stream(s) %s", self.path.name, silent)

    async def abort(self) -> None:
        """End as a killed process would: nothing more is written and the file stays as it
        lies on disk, never finished; but its handle is closed (a drill leaks nothing)."""
        self._abandoned = True
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        loop = asyncio.get_running_loop()
        try:
            await loop.run_in_executor(self._executor, self._abandon)
        finally:
            self._executor.shutdown(wait=False)

    def _abandon(self) -> None:
        # PyAV lets go of a file only by finishing it (the last fragment and the trailer),
        # and never closes it otherwise, not even when the container is collected. So close
        # it, then cut it back to the bytes that were on disk: what a killed process leaves
        # (the fragments flushed so far; the one still gathering in memory is lost).
        if not self.written:
            self.container.close()  # never started: there is no file
            return
        size = self.path.stat().st_size
        try:
            self.container.close()
        finally:
            os.truncate(self.path, size)
