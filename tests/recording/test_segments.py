"""One segment file, fed by local tracks (no network): a segment that no media reached has
no file and says so; a crash drill leaves the file as it lay on disk and no handle open."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

import av
from aiortc import MediaStreamTrack
from aiortc.mediastreams import AudioStreamTrack, VideoStreamTrack

from hearings.recording.segments import Input, SegmentFile


class Silent(MediaStreamTrack):
    """A track that never delivers a frame (a frozen camera, a muted line)."""

    def __init__(self, kind: str) -> None:
        super().__init__()
        self.kind = kind

    async def recv(self) -> Any:
        await asyncio.Event().wait()


def open_handles(path: Path) -> int:
    """How many of this process's file descriptors point at ``path``."""
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            count += os.readlink(f"/proc/self/fd/{fd}") == str(path)
        except OSError:
            continue  # the listing's own descriptor, closed meanwhile
    return count


async def until(test: Any, timeout: float = 20) -> None:
    """Wait until ``test()`` holds (the file's worker writes on its own thread)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not test():
        assert loop.time() < deadline, "timed out"
        await asyncio.sleep(0.05)  # nothing to wait on but the frame counter


def test_a_segment_no_media_reached_has_no_file(tmp_path):
    path = tmp_path / "seg-00001.mp4"

    async def main() -> SegmentFile:
        segment = SegmentFile(path, [Input(Silent("audio")), Input(Silent("video"), (320, 240))])
        segment.start()
        await segment.stop()
        return segment

    segment = asyncio.run(main())
    assert not segment.written and not path.exists()


def test_a_segment_that_got_media_is_a_finished_file(tmp_path):
    path = tmp_path / "seg-00001.mp4"

    async def main() -> SegmentFile:
        segment = SegmentFile(path, [Input(AudioStreamTrack()), Input(VideoStreamTrack())])
        segment.start()
        await until(lambda: min(segment.frames[0], segment.frames[1]) >= 5)
        await segment.stop()
        return segment

    segment = asyncio.run(main())
    assert segment.written and open_handles(path) == 0
    with av.open(str(path)) as container:
        kinds = {packet.stream.type for packet in container.demux() if packet.size}
    assert kinds == {"audio", "video"}


def test_a_crash_drill_leaves_the_file_as_it_lay_and_closes_it(tmp_path):
    path = tmp_path / "seg-00001.mp4"

    async def main() -> bytes:
        segment = SegmentFile(path, [Input(VideoStreamTrack())])
        segment.start()
        # Past the first 1 s fragment, so that something whole is on disk.
        await until(lambda: segment.frames[0] >= 45)
        assert open_handles(path) == 1
        segment._abandoned = True  # hold further writes: read exactly what lies on disk
        await asyncio.get_running_loop().run_in_executor(segment._executor, lambda: None)
        on_disk = path.read_bytes()
        await segment.abort()
        return on_disk

    on_disk = asyncio.run(main())
    assert on_disk and path.read_bytes() == on_disk  # never finished: no trailer added
    assert open_handles(path) == 0


def test_a_crash_drill_before_any_media_leaves_nothing(tmp_path):
    path = tmp_path / "seg-00001.mp4"

    async def main() -> None:
        segment = SegmentFile(path, [Input(Silent("video"))])
        segment.start()
        await segment.abort()

    asyncio.run(main())
    assert not path.exists()
