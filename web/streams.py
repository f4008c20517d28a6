"""Answers too long to build whole: `/events` and `/export` streamed from a worker thread of their own.

The thread opens its own log (a stream outlives a request's worker turn, and one SQLite connection must not
serve two requests at once), writes text in pieces of CHUNK bytes into a queue of QUEUED pieces, and waits
while the queue is full: a slow client slows the reading, memory stays flat whatever the session's length.
Errors before the first byte (no such session, a bad range) are ordinary JSON refusals; the work is
abandoned (store.progress) when the client leaves or the server stops, as a request's is.
"""

import asyncio
import concurrent.futures
import threading

import store
from store import progress
from web.database import Call, _settle

CHUNK = 64 * 1024
QUEUED = 8
_END = object()


class _Pipe:
    """The thread's side: `write(text)` gathers CHUNK bytes, then hands them over (waiting while full)."""

    def __init__(self, loop, queue: asyncio.Queue, call: Call):
        self.loop, self.queue, self.call = loop, queue, call
        self.pieces: list[bytes] = []
        self.size = 0

    def write(self, text: str) -> None:
        data = text.encode("utf-8")
        self.pieces.append(data)
        self.size += len(data)
        if self.size >= CHUNK:
            self.flush()

    def flush(self) -> None:
        if self.pieces:
            data, self.pieces, self.size = b"".join(self.pieces), [], 0
            self._put(data)

    def _put(self, item) -> None:
        future = asyncio.run_coroutine_threadsafe(self.queue.put(item), self.loop)
        while True:
            try:
                future.result(timeout=0.25)
                return
            except concurrent.futures.TimeoutError:
                if progress.abandoned():  # this thread's call (the client left), or the server stopping
                    future.cancel()
                    raise progress.Abandoned("the stream's client left, or the server is stopping")

    def close(self, error: BaseException | None = None) -> None:
        try:
            if error is None:
                self.flush()
            self._put(_END)
        except BaseException:  # noqa: BLE001  (nobody is listening any more)
            pass


async def stream(path: str, prepare, produce):
    """(first, body): `prepare(log)` runs first (its error is raised here, before any byte is sent) and its
    result is `first`; `produce(log, prepared, write)` then writes the text, in a thread, while `body` (an
    async iterator of bytes for a StreamingResponse) hands it on."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue = asyncio.Queue(QUEUED)
    call = Call()
    ready = loop.create_future()
    pipe = _Pipe(loop, queue, call)

    def work():
        with progress.abandonable(call):
            try:
                log = store.open_log(path)
            except BaseException as exc:  # noqa: BLE001
                loop.call_soon_threadsafe(_settle, ready, None, exc)
                return
            try:
                try:
                    prepared = prepare(log)
                except BaseException as exc:  # noqa: BLE001
                    loop.call_soon_threadsafe(_settle, ready, None, exc)
                    return
                loop.call_soon_threadsafe(_settle, ready, prepared, None)
                error = None
                try:
                    produce(log, prepared, pipe.write)
                except BaseException as exc:  # noqa: BLE001  (the answer has started: it ends short)
                    error = exc
                pipe.close(error)
            finally:
                log.close()

    threading.Thread(target=work, name="nnreplay-stream", daemon=True).start()
    prepared = await ready

    async def body():
        try:
            while True:
                item = await queue.get()
                if item is _END:
                    return
                yield item
        finally:
            call.abandon()  # the client left (or the answer ended): the thread stops at its next piece

    return prepared, body()
