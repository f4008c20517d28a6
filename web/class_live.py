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
        joined = {}  # a new student's token -> their first session in this change
        for sid in change["changed"]:
            if sid not in self.owners:
                member = classes.member(self._log, sid)
                mine = member is not None and member.role == "student" and member.class_id == self.room.id
                self.owners[sid] = member.token_hash if mine else None
                if mine and member.token_hash not in tokens:
                    known = joined.get(member.token_hash)
                    if known is None or member.order < known.order:
                        joined[member.token_hash] = member
        record_moved = first_poll or self.room.id in change["changed"]
        if not (joined or record_moved):
            return change
        # every session has passed through `changed` (the first poll sees them all), so the students are the
        # tokens of `owners`: a join costs this thread the new sessions' memberships, not the whole class's
        paused = classes.find_class(self._log, self.room.name).paused if record_moved else self.state["paused"]
        state = {"paused": paused, "students": len({token for token in self.owners.values() if token is not None})}
        if state != self.state:
            self.state = change["class"] = state
        if joined and not first_poll:  # the first poll finds every student: pages read the class then
            change["class"] = {**state, "joined": [{"session": one.session_id, "name": one.student}
                                                   for one in sorted(joined.values(), key=lambda one: one.order)]}
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
