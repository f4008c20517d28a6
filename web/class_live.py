"""The live channel in class mode: each stream hears what its reader may know.

The watcher learns, for every session it sees move, whose it is (classes.member, cached by the service),
and when the class record moves or a student's first session appears, the class's state. Then:
- the teacher's streams: every head, and `event: class {"paused", "students"}` when the class changed,
  with `joined` naming the students who joined since the last change ({session, name}: their first
  session), so that the overview adds their boards without reading the whole class again;
- a student's streams: only the heads of their own sessions (never another session's id), and
  `event: class {"paused"}` so that their page can say so before they press.
"""

from service import classes
from web.live import Live, event, every_head


class ClassLive(Live):
    def __init__(self, path: str, room):
        super().__init__(path)
        self.room = room
        self.owners: dict[str, str | None] = {}  # session id -> its student's token digest (None: no student's)
        self.state: dict = {}

    def _poll(self) -> dict | None:
        change = super()._poll()
        if change is None:
            return None
        first_poll, tokens = not self.state, set(self.owners.values())
        new_tokens = set()
        for sid in change["changed"]:
            if sid not in self.owners:
                member = classes.member(self._log, sid)
                mine = member is not None and member.role == "student" and member.class_id == self.room.id
                self.owners[sid] = member.token_hash if mine else None
                if mine and member.token_hash not in tokens:
                    new_tokens.add(member.token_hash)
        if new_tokens or self.room.id in change["changed"] or first_poll:
            info = classes.find_class(self._log, self.room.name)
            state = {"paused": info.paused, "students": info.students}
            if state != self.state:
                self.state = change["class"] = state
            if new_tokens and not first_poll:  # the first poll finds every student: pages read the class then
                joined = [{"session": first.session_id, "name": first.student}
                          for first in classes.first_sessions(self._log, self.room.name)
                          if first.token_hash in new_tokens]
                change["class"] = {**state, "joined": joined}
        return change

    def snapshot(self) -> dict:
        return {**super().snapshot(), "class": self.state}

    def view_for(self, you):
        """The text each change sends the page of `you` (a teacher or a student)."""
        if you.role == "teacher":
            def teacher(change: dict) -> str:
                heads = every_head(change) if change["changed"] or change.get("all") else ""
                return heads + (event("class", change["class"]) if change.get("class") else "")

            return teacher

        def student(change: dict) -> str:
            mine = {sid: seq for sid, seq in change["changed"].items() if self.owners.get(sid) == you.token}
            text = every_head({**change, "changed": mine}) if mine or change.get("all") else ""
            if change.get("class"):  # neither the count nor who joined: other students are not theirs to know
                text += event("class", {"paused": change["class"]["paused"]})
            return text

        return student
