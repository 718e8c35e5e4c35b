"""Decode the chunks of a plain NMEA file in worker processes; store them here, in order.

Framing a chunk depends on the lines before it (a two-part message split across
chunks, the clock of a ``$GPRMC``, when stale parts are dropped), so a worker
first replays the end of the previous chunk to bring its framer to the state the
sequential run would be in, and reports that state with the chunk. The batches are
taken in file order; a chunk whose replayed state differs from the true one (the
end state of the chunk before it) is decoded again here, from the true state. The
result is therefore exactly that of the sequential path (tests/test_parallel.py),
and only the speed depends on the number of workers.
"""

from __future__ import annotations

import collections
import multiprocessing
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from shiptrack.decode.nmea import FramerState, NmeaFramer, TimeSource, advance, decode_chunk, finish_batch
from shiptrack.decode.records import BatchBuilder
from shiptrack.read.chunks import PAD, ChunkSpec, chunk_at, split_lines
from shiptrack.store.load import Prepared, prepare_batch

# How much of the previous chunk a worker replays: a part of a two-part message waits
# at most 400 lines for the other, so a few thousand lines bring any state up to date.
REPLAY_BYTES = 1 << 18


@dataclass(frozen=True)
class ChunkJob:
    path: str
    spec: ChunkSpec
    first: bool  # the file's first chunk: the framer starts from its initial state
    time_from: TimeSource
    key_hash: str


@dataclass
class ChunkResult:
    start_state: FramerState | None  # the replayed state (None: the initial one)
    end_state: FramerState
    prepared: Prepared


def run_chunk(job: ChunkJob) -> ChunkResult:
    """Decode and prepare one chunk (in a worker process)."""
    builder = BatchBuilder(dedup_window_s=60.0)
    framer = NmeaFramer(builder, job.time_from)
    start_state = None
    with open(job.path, "rb") as f:
        if not job.first:
            _replay(f, job.spec, framer, builder)
            start_state = framer.snapshot()
        chunk = chunk_at(f, job.spec, job.first)
    batch = decode_chunk(framer, builder, chunk)
    return ChunkResult(start_state, framer.snapshot(), prepare_batch(batch, job.key_hash))


def _replay(f: object, spec: ChunkSpec, framer: NmeaFramer, builder: BatchBuilder) -> None:
    """Run the framer over the lines just before ``spec`` (their results are dropped)."""
    begin = max(0, spec.start - REPLAY_BYTES)
    f.seek(begin)  # type: ignore[attr-defined]
    data = f.read(spec.start - begin)  # type: ignore[attr-defined]
    if begin > 0:
        data = data[data.find(b"\n") + 1 :]  # from the first whole line
    if not data:
        return
    n = len(split_lines(data + PAD, len(data), 0, begin == 0))
    warm = split_lines(data + PAD, len(data), spec.first_line - n, begin == 0)
    span = framer.MAX_FRAGMENT_SPAN_LINES
    framer._last_sweep = ((spec.first_line - n - 1) // span) * span  # the sweep of that block
    advance(framer, builder, warm)


def ordered_batches(
    path: Path, specs: list[ChunkSpec], pool: ProcessPoolExecutor, time_from: TimeSource, key_hash: str,
    ahead: int = 4,
) -> Iterator[Prepared]:
    """The prepared batches of every chunk of ``path``, in order, then the last one
    (parts still waiting at the end of the file), exactly as the sequential path."""
    builder = BatchBuilder(dedup_window_s=60.0)
    framer = NmeaFramer(builder, time_from)
    true_state = framer.snapshot()
    jobs = iter([ChunkJob(str(path), spec, i == 0, time_from, key_hash) for i, spec in enumerate(specs)])
    running: collections.deque[tuple[ChunkJob, Future[ChunkResult]]] = collections.deque()

    def submit() -> None:
        job = next(jobs, None)
        if job is not None:
            running.append((job, pool.submit(run_chunk, job)))

    try:
        for _ in range(ahead):
            submit()
        while running:
            job, future = running.popleft()
            result = future.result()
            submit()
            if result.start_state is None or result.start_state == true_state:
                true_state = result.end_state
                result.prepared.bytes_done = job.spec.end
                yield result.prepared
                continue
            # the replay did not reach the true state: decode the chunk again, here
            framer.restore(true_state)
            with open(path, "rb") as f:
                chunk = chunk_at(f, job.spec, job.first)
            batch = decode_chunk(framer, builder, chunk)
            true_state = framer.snapshot()
            prepared = prepare_batch(batch, key_hash)
            prepared.bytes_done = job.spec.end
            yield prepared
        framer.restore(true_state)
        yield prepare_batch(finish_batch(framer, builder), key_hash)
    finally:
        for _, future in running:
            future.cancel()


class DecodePool:
    """Worker processes for decoding, started on first use."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self._pool: ProcessPoolExecutor | None = None

    def get(self) -> ProcessPoolExecutor:
        if self._pool is None:
            # "spawn": fork and forkserver deadlock here, the forked child inheriting the
            # parent's polars/DuckDB thread pools mid-lock (seen with 2 workers on 1M lines).
            ctx = multiprocessing.get_context("spawn")
            self._pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=ctx)
        return self._pool

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
