"""The live channel's own rule for a page that stops reading, driven on a real database file."""

import asyncio

from typer.testing import CliRunner

import cli
import web.live
from serving import run_async
from web.live import QUEUE, Live


def test_a_stream_whose_page_stalled_ends_so_that_the_browser_reconnects(tmp_path, monkeypatch):
    """A page that reads nothing while more than QUEUE changes arrive loses its queue; its stream must then
    end (EventSource reconnects and is sent every head) rather than send heartbeats for ever."""
    monkeypatch.setattr(web.live, "POLL_SECONDS", 0.02)  # the same rule, polled faster
    db = str(tmp_path / "live.db")
    runner = CliRunner()
    session = runner.invoke(cli.app, ["--db", db, "new", "--seed", "1"]).stdout.strip()

    async def scenario():
        live = Live(db)
        watcher = asyncio.create_task(live.watch())
        stream = live.stream()
        first = await stream.__anext__()  # every head, then the page stalls
        assert '"all":true' in first
        for _ in range(QUEUE + 3):
            runner.invoke(cli.app, ["--db", db, "next", session])
            await asyncio.sleep(0.06)  # a few polls per press: one change each
        rest = []
        try:
            while True:
                rest.append(await asyncio.wait_for(stream.__anext__(), 5))
        except StopAsyncIteration:
            ended = True
        except TimeoutError:
            ended = False
        live.stopping.set()
        await watcher
        live.close()
        return ended, rest

    ended, rest = run_async(scenario())
    assert ended, f"the stream went on after its queue was dropped ({len(rest)} more messages)"
