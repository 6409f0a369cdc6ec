"""Janus's own recordings made into segment files, without decoding anything.

Janus writes one ``.mjr`` per stream of a feed (``<base>-video-<mid>.mjr``,
``<base>-audio-<mid>.mjr``): RTP packets as they came. ``janus-pp-rec`` (Debian's
``janus-tools``) orders each into a file of its own codec (VP8 → WebM, Opus → Ogg), and
PyAV copies their packets, interleaved by time, into one WebM per segment: the participant's
video and audio side by side, each placed by the moment its first packet reached Janus (the
``.mjr`` header's ``s``), so the two stay in step.
"""

from __future__ import annotations

import heapq
import itertools
import json
import logging
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import av

log = logging.getLogger(__name__)

TOOL = "janus-pp-rec"
#: What ``janus-pp-rec`` makes of each kind of stream.
SUFFIXES = {"video": ".webm", "audio": ".opus"}
#: How long one ``janus-pp-rec`` may take (it copies packets: seconds for an hour).
TOOL_TIMEOUT = 300.0


class ConversionError(Exception):
    """A ``.mjr`` that could not be made into a segment file (its cause in the message)."""


@dataclass(frozen=True)
class Source:
    """One ``.mjr`` file: its kind and when its first packet was written (µs, Janus's clock)."""

    kind: str
    path: Path
    started_us: int


def available() -> bool:
    """Whether ``janus-pp-rec`` is installed here."""
    return shutil.which(TOOL) is not None


def sources(base: Path) -> list[Source]:
    """The ``.mjr`` files Janus wrote under ``base``, video first, each with its start. An
    empty file is left out: Janus had written nothing of it to disk (it buffers, so one it
    was recording when it was killed may be empty)."""
    found = []
    for kind in SUFFIXES:
        for path in sorted(base.parent.glob(f"{base.name}-{kind}-*.mjr")):
            if path.stat().st_size == 0:
                continue
            found.append(Source(kind, path, _started(path)))
    return found


def made(base: Path) -> bool:
    """Whether Janus has made any file under ``base`` (written to yet or not)."""
    return any(base.parent.glob(f"{base.name}-*.mjr"))


def _started(path: Path) -> int:
    result = _tool("-j", str(path))
    try:
        header = json.loads(result.stdout)
    except ValueError:
        raise ConversionError(f"{path.name}: janus-pp-rec printed no header") from None
    return int(header.get("s") or header.get("c") or 0)


def _tool(*args: str) -> subprocess.CompletedProcess[str]:
    try:
        result = subprocess.run(
            [TOOL, "-d", "0", *args], capture_output=True, text=True, timeout=TOOL_TIMEOUT
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise ConversionError(f"janus-pp-rec could not run: {error}") from None
    if result.returncode != 0:
        raise ConversionError(f"janus-pp-rec failed ({result.returncode}): {result.stderr[-300:]}")
    return result


def convert(base: Path, target: Path) -> list[str]:
    """Make ``target`` (WebM) of what Janus recorded under ``base``: the kinds of its streams,
    in order. ``[]``: nothing was recorded (no packet reached the files), and no file is
    made. The ``.mjr`` files and the intermediates go once ``target`` is written."""
    found = sources(base)
    parts: list[tuple[Source, Path]] = []
    try:
        for source in found:
            out = source.path.with_suffix(SUFFIXES[source.kind])
            _tool(str(source.path), str(out))
            if out.is_file() and out.stat().st_size > 0:
                parts.append((source, out))
        if parts:
            remux(parts, target)
    finally:
        for _, out in parts:
            out.unlink(missing_ok=True)
    for path in base.parent.glob(f"{base.name}-*.mjr"):
        path.unlink(missing_ok=True)
    return [source.kind for source, _ in parts]


def remux(parts: list[tuple[Source, Path]], target: Path) -> None:
    """Copy each part's one stream into ``target``, packets in time order, each part
    shifted by how much later than the first its first packet came."""
    first = min(source.started_us for source, _ in parts)
    inputs = [av.open(str(path)) for _, path in parts]
    try:
        output = av.open(str(target), mode="w", format="webm")
        try:
            streams = [output.add_stream_from_template(i.streams[0]) for i in inputs]
            shifts = [Fraction(source.started_us - first, 1_000_000) for source, _ in parts]
            for packet, stream in _interleaved(inputs, shifts):
                packet.stream = streams[stream]
                output.mux(packet)
        finally:
            output.close()
    except (av.FFmpegError, ValueError) as error:
        target.unlink(missing_ok=True)
        raise ConversionError(f"{target.name}: the streams could not be joined: {error}") from None
    finally:
        for container in inputs:
            container.close()


def _interleaved(inputs: list[Any], shifts: list[Fraction]) -> Iterator[tuple[Any, int]]:
    """Every packet of every input, earliest first, with its input's index; timestamps
    moved by the input's shift. A video starts at its first keyframe (Janus records from
    the moment it is asked, which is mostly between two)."""
    tiebreak = itertools.count()
    queue: list[tuple[Fraction, int, int, Any]] = []
    demuxers = [i.demux(i.streams[0]) for i in inputs]
    keyed: set[int] = set()

    def pull(index: int) -> None:
        for packet in demuxers[index]:
            if packet.dts is None:  # the demuxer's flush packet
                continue
            if index not in keyed and packet.stream.type == "video":
                if not packet.is_keyframe:
                    continue  # caught mid-picture: nothing decodes before a keyframe
                keyed.add(index)
            base = packet.time_base
            shift = int(shifts[index] / base)
            packet.dts += shift
            packet.pts = None if packet.pts is None else packet.pts + shift
            heapq.heappush(queue, (packet.dts * base, next(tiebreak), index, packet))
            return

    for index in range(len(inputs)):
        pull(index)
    while queue:
        _, _, index, packet = heapq.heappop(queue)
        yield packet, index
        pull(index)
