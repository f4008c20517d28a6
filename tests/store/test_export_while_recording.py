"""An export taken while another writer appends is whole: its header's event count and head hash describe
exactly the lines it holds (found in review: the head and the count were read apart, so an append between
them gave a header promising one event more than the file held, which import then calls truncated)."""

import io
import json

from engine import Next, Settings
from store import EventLog
from store.portable import export, read_export


class AppendsDuringCount(EventLog):
    """A real log whose first count is preceded by a real press from another connection: the moment a
    second terminal's commit lands between the export's two reads."""

    pressed = False

    def count(self, session_id: str) -> int:
        if not self.pressed:
            self.pressed = True
            with EventLog(self.path) as other:
                other.record(session_id, [Next()])
        return super().count(session_id)


def test_an_export_racing_an_append_is_consistent(db_path):
    with EventLog(db_path) as log:
        info = log.new_session(Settings(seed=1), name="racing")
        log.record(info.id, [Next()] * 3)
    out = io.StringIO()
    with AppendsDuringCount(db_path) as log:
        written = export(log, log.resolve("racing"), out)
    lines = out.getvalue().splitlines()
    header = json.loads(lines[0])
    assert header["events"] == written == len(lines) - 1 == 5
    assert header["head_hash"] == json.loads(lines[-1])["hash"]
    read_export([line.encode() for line in lines], "racing.jsonl")  # verifies as an import would
