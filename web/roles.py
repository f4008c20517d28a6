"""Who is asking: the role of a request, read from its cookies once and kept on the request.

- owner: no class mode; everything is allowed, as before classes existed.
- teacher: the `nnreplay_teacher` cookie holds a token this process handed out (its hash is in memory).
- student: the `nnreplay_student` cookie's token hashes to a student of the class, as the log records.
- visitor: anyone else.
"""

import attrs

from service import classes
from web import codes

TEACHER_COOKIE = "nnreplay_teacher"
STUDENT_COOKIE = "nnreplay_student"
_KEY = "nnreplay.you"
# set by web/capabilities.py on a student's press: the token digest whose session the press's job claims
CLAIMANT = "nnreplay.claimant"


@attrs.frozen
class You:
    role: str
    name: str | None = None
    token: str | None = None  # a student's token digest, as their sessions' first events record it


OWNER, TEACHER, VISITOR = You("owner"), You("teacher"), You("visitor")


async def resolve(request) -> You:
    """The request's role, resolved on first use and kept in its scope for the rest of it."""
    you = request.scope.get(_KEY)
    if you is None:
        you = request.scope[_KEY] = await _resolve(request)
    return you


async def _resolve(request) -> You:
    room = request.app.state.classroom
    if room is None:
        return OWNER
    if room.is_teacher(request.cookies.get(TEACHER_COOKIE)):
        return TEACHER
    token = request.cookies.get(STUDENT_COOKIE)
    if not token or len(token) > 100:
        return VISITOR
    token_digest = codes.digest(token)
    name = room.students.get(token_digest)
    if name is None:  # not confirmed yet by this process: the log says (a student may have joined elsewhere)
        student = await request.app.state.db.run(classes.student_by_token, room.name, token_digest)
        if student is None:
            return VISITOR
        name = room.students[token_digest] = student.name
    return You("student", name, token_digest)


async def describe(request) -> dict:
    """What /api/server adds, so the page knows its mode: the class (or null) and who is asking."""
    you, room = await resolve(request), request.app.state.classroom
    if room is None:
        return {"class": None, "you": {"role": "owner", "name": None, "sessions": None}}

    def read(log):
        info = classes.find_class(log, room.name)
        student = classes.student_by_token(log, room.name, you.token) if you.role == "student" else None
        return info, list(student.sessions) if student is not None else []

    info, sessions = await request.app.state.db.run(read)
    return {"class": {"name": info.name, "lesson": info.lesson, "paused": info.paused},
            "you": {"role": you.role, "name": you.name, "sessions": sessions}}
