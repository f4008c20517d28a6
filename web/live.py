"""The live channel: server-sent events telling pages which sessions moved.

Presses made elsewhere (a terminal's `nnreplay next`, another server) never pass through this process, so
the server watches the database itself: a few times a second one thread asks the store for its change token
(`service.data_version`: SQLite's `data_version`, a counter of other connections' commits, nearly free; on
PostgreSQL one aggregate over the heads cache, which every append updates in its own transaction, so a
press made through any server process or terminal moves it), and only when it moved reads every session's
head and sends pages the heads that changed. Polling was chosen over PostgreSQL's LISTEN/NOTIFY: it needs
no extra trigger on the log (audit would have to trust it), no connection parked in LISTEN, and it is the
same code on both backends; its cost is one small query per server every POLL_SECONDS.
"""

import asyncio
import concurrent.futures
import json
import sys

import service
import store

POLL_SECONDS = 0.2
HEARTBEAT_SECONDS = 15.0
QUEUE = 64


class Live:
    def __init__(self, path: str):
        self.path = path
        self.heads: dict[str, int] = {}
        self.stopping = asyncio.Event()
        self._queues: set[asyncio.Queue] = set()
        # one thread, one connection: data_version is counted per connection
        self._thread = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="nnreplay-live")
        self._log = None
        self._version = None

    def _poll(self) -> dict | None:
        """A change for the streams, {"changed": {session id: seq}}, or None when nothing moved."""
        if self._log is None:
            self._log = store.open_log(self.path)
        version = service.data_version(self._log)
        if version == self._version:
            return None
        self._version = version
        heads = service.heads(self._log)
        changed = {sid: seq for sid, seq in heads.items() if self.heads.get(sid) != seq}
        self.heads = heads
        return {"changed": changed} if changed else None

    def snapshot(self) -> dict:
        """What a new stream is sent first: every head."""
        return {"changed": self.heads, "all": True}

    async def watch(self) -> None:
        """Poll until stopped; push each change to every open stream."""
        loop = asyncio.get_running_loop()
        trouble = None
        while not self.stopping.is_set():
            try:
                changed = await loop.run_in_executor(self._thread, self._poll)
                trouble = None
            except Exception as exc:  # a locked or vanished file must not end the watch for good
                changed = None
                self._thread.submit(self._reopen)
                if str(exc) != trouble:  # said once, not five times a second
                    trouble = str(exc)
                    print(f"nnreplay serve: live updates paused, the database cannot be read: {exc}",
                          file=sys.stderr, flush=True)
            if changed:
                for queue in list(self._queues):
                    if queue.full():  # a stalled page: it reloads the heads when it reconnects
                        self._queues.discard(queue)
                    else:
                        queue.put_nowait(changed)
            try:
                await asyncio.wait_for(self.stopping.wait(), POLL_SECONDS)
            except TimeoutError:
                pass

    def _reopen(self) -> None:
        # a PostgreSQL connection that broke stays broken: the next poll opens a new one
        if store.is_url(self.path) and self._log is not None and (self._log.conn.closed or self._log.conn.broken):
            self._log.close()
            self._log = None

    def close(self) -> None:
        self._thread.submit(lambda: self._log and self._log.close())
        self._thread.shutdown(wait=True)

    async def stream(self, view=None):
        """One page's stream: every head first, then changes, until the page leaves or the server stops.
        `view(change)` is the text a change sends this page ("" for none); by default, every head."""
        view = view or every_head
        queue: asyncio.Queue = asyncio.Queue(QUEUE)
        self._queues.add(queue)
        try:
            yield view(self.snapshot())
            # a queue the watcher dropped (the page stalled) ends the stream: the browser's EventSource
            # reconnects and is sent every head again, instead of hearing nothing but heartbeats for good
            while not self.stopping.is_set() and queue in self._queues:
                getter = asyncio.ensure_future(queue.get())
                stopper = asyncio.ensure_future(self.stopping.wait())
                try:
                    done, _ = await asyncio.wait({getter, stopper}, timeout=HEARTBEAT_SECONDS,
                                                 return_when=asyncio.FIRST_COMPLETED)
                finally:  # also when the page leaves mid-wait: no task is left pending behind it
                    stopper.cancel()
                    if not getter.done():
                        getter.cancel()
                if getter in done and not getter.cancelled():
                    text = view(getter.result())
                    if text:
                        yield text
                elif not self.stopping.is_set():
                    yield ": still here\n\n"
        finally:
            self._queues.discard(queue)


def every_head(change: dict) -> str:
    return event("heads", {key: change[key] for key in ("changed", "all") if key in change})


def event(name: str, data: dict) -> str:
    return f"event: {name}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"
