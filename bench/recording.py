"""CPU cost of the witness recorder: seconds of CPU per second of recording, per stream.

Feeds ``--streams`` participants (640×480 video at 30 fps, with audio) through the same
``SegmentFile`` set-up as the recorder peer (fragmented MP4, H.264 + AAC, crash-safe
options, one ``MediaRelay`` subscription each, segments cut every ``--segment`` seconds)
for ``--seconds`` of wall time, and prints the process CPU time divided by the recorded
seconds and the number of streams. The video moves (a sliding pattern), so H.264 has
real work to do. Receiving and decoding from the network (about 0.1 core per stream,
FACTS.md) is not in this figure. Target: ≤ 0.35 core per stream.
Run: ``.venv/bin/python bench/recording.py [--streams 3] [--seconds 20]``.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

import av
from aiortc.contrib.media import MediaRelay
from aiortc.mediastreams import AudioStreamTrack, VideoStreamTrack

from hearings.recording.segments import CONTAINER, Input, SegmentFile

WIDTH, HEIGHT = 640, 480


class MovingVideo(VideoStreamTrack):
    """640×480 frames at 30 fps from a pattern that slides a little every frame."""

    def __init__(self, seed: int) -> None:
        super().__init__()
        rows = bytes((x * 7 + y * 3 + seed * 50) % 256 for y in range(64) for x in range(WIDTH))
        self._pattern = rows * (HEIGHT // 64 + 2)

    async def recv(self) -> av.VideoFrame:
        pts, time_base = await self.next_timestamp()
        shift = (pts // 3000) % 64 * WIDTH
        luma = self._pattern[shift : shift + WIDTH * HEIGHT]
        frame = av.VideoFrame(WIDTH, HEIGHT, "yuv420p")
        frame.planes[0].update(luma)
        frame.planes[1].update(bytes([128]) * (WIDTH * HEIGHT // 4))
        frame.planes[2].update(bytes([128]) * (WIDTH * HEIGHT // 4))
        frame.pts, frame.time_base = pts, time_base
        return frame


async def record(streams: int, seconds: float, segment: float, folder: Path) -> float:
    relay = MediaRelay()
    sources = []
    for n in range(streams):
        sources += [AudioStreamTrack(), MovingVideo(n)]
    started = time.monotonic()
    index = 0
    while time.monotonic() - started < seconds:
        index += 1
        proxies = [relay.subscribe(track) for track in sources]
        size = (WIDTH, HEIGHT)
        file = SegmentFile(
            folder / f"seg-{index:05d}.{CONTAINER}",
            [Input(p, size if p.kind == "video" else None) for p in proxies],
        )
        file.start()
        await asyncio.sleep(min(segment, seconds - (time.monotonic() - started)))
        await file.stop()
        for proxy in proxies:
            proxy.stop()
    return time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--streams", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--segment", type=float, default=10.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        cpu_before = time.process_time()
        wall = asyncio.run(record(args.streams, args.seconds, args.segment, Path(folder)))
        cpu = time.process_time() - cpu_before
        frames = 0
        for path in sorted(Path(folder).iterdir()):
            with av.open(str(path)) as container:
                video = list(container.streams.video)
                frames += sum(1 for packet in container.demux(*video) if packet.size)
    per_stream = cpu / wall / args.streams
    fps = frames / wall / args.streams
    print(f"recorded {wall:.1f} s of {args.streams} streams at {WIDTH}x{HEIGHT}, "
          f"{frames} video packets ({fps:.1f} fps per stream)")  # fmt: skip
    print(f"CPU {cpu:.1f} s: {per_stream:.3f} CPU seconds per second per stream "
          f"(target ≤ 0.35){'' if per_stream <= 0.35 else '  — OVER TARGET'}")  # fmt: skip


if __name__ == "__main__":
    main()
