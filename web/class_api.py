"""Class mode's routes: the teacher's link, joining, the teacher's overview and class API, and the answers a
student gets in place of the owner's (their own sessions listed, new sessions only in the lesson, a live
stream of their own sessions). web/capabilities.py decides who reaches which; docs/api.md is the contract.
"""

import re

from starlette.responses import JSONResponse, RedirectResponse, Response, StreamingResponse

import service
from service import classes
from web import codes
from web.answers import Refused, error, query_int, read_body, vet
from web.limits import retry_after, too_many
from web.api import _attachment, _left, _settings_spec, costly, endpoint
from web.roles import STUDENT_COOKIE, TEACHER_COOKIE, resolve
from web.streams import stream

STUDENT_COOKIE_SECONDS = 30 * 24 * 3600  # a student who closes the browser comes back to their session
JOIN_SPEC = {"code": ("text",), "name": ("text",)}
PAUSE_SPEC = {"paused": ("bool",)}
BOARD_GRID, MAX_BOARD_GRID = 24, 64
MAX_BOARD_SESSIONS = 400


def _room(request):
    return request.app.state.classroom


def _cookie(response: Response, name: str, token: str, max_age: int | None = None) -> None:
    # HttpOnly: no script reads it; SameSite=Strict: no other site's page sends it
    response.set_cookie(name, token, max_age=max_age, path="/", httponly=True, samesite="strict")


def _page(request, name: str) -> Response:
    return Response(request.app.state.files[name], media_type="text/html; charset=utf-8",
                    headers={"Cache-Control": "no-cache"})


@endpoint
async def teacher_link(request):
    """The link printed at start: a valid secret becomes a teacher cookie, and the address bar loses it."""
    room = _room(request)
    if not room.is_secret(request.path_params["secret"]):
        # the secret is not echoed: a wrong one may be a right one from an earlier start
        return error(403, "this teacher link is not valid for this server's run (each start prints a new one)",
                     "secret")
    answer = RedirectResponse("/class", status_code=303, headers={"Cache-Control": "no-store"})
    _cookie(answer, TEACHER_COOKIE, room.new_teacher())
    return answer


async def _own_student(request):
    """The asking student, as the log has them now."""
    you = await resolve(request)
    return await request.app.state.db.run(classes.student_by_token, _room(request).name, you.token)


@endpoint
async def join_page(request):
    you = await resolve(request)
    if you.role == "student":
        student = await _own_student(request)
        if student is not None:
            return RedirectResponse(f"/sessions/{student.session}", status_code=303)
    return _page(request, "join.html")


@endpoint
async def class_page(request):
    return _page(request, "class.html")


def _joined(room, session: str, name: str) -> dict:
    return {"session": session, "name": name, "class": room.name, "page": f"/sessions/{session}"}


@endpoint
async def join(request):
    room, you = _room(request), await resolve(request)
    if you.role == "student":  # a returning student: their own session again, and no second seat
        student = await _own_student(request)
        return JSONResponse(_joined(room, student.session, student.name))
    address = request.client.host if request.client else ""
    wait = room.wrong_codes.wait(address)
    if wait is not None:
        # every guess is refused while shut out, a right one too: else 429 against 201 would tell them apart
        return too_many(f"too many wrong join codes from this address; try again in {retry_after(wait)} s", "code",
                        wait)
    body = vet(await read_body(request), JOIN_SPEC, required=("code", "name"))
    if len(body["code"]) > 64 or not room.is_code(body["code"]):
        room.wrong_codes.miss(address)
        raise Refused(403, "that is not this class's join code; check it with your teacher", "code")
    name = classes.check_display_name(body["name"])
    token = codes.new_token()
    digest = codes.digest(token)
    pending = frozenset(room.joining)  # read and added to on the event loop: no other join comes between
    room.joining.add(digest)
    try:
        info, shown = await request.app.state.db.run(classes.join, room.name, name, digest, room.max_students,
                                                      pending)
    finally:
        room.joining.discard(digest)
    room.students[digest] = shown
    answer = JSONResponse(_joined(room, info.id, shown), status_code=201,
                          headers={"Location": f"/api/sessions/{info.id}"})
    _cookie(answer, STUDENT_COOKIE, token, STUDENT_COOKIE_SECONDS)
    return answer


@endpoint
async def overview(request):
    room = _room(request)

    def run(log):
        info = classes.find_class(log, room.name)
        return JSONResponse({"class": info.name, "id": info.id, "lesson": info.lesson, "paused": info.paused,
                             "max_students": room.max_students,
                             "join": {"address": room.join_address, "code": codes.shown_code(room.code)},
                             "students": [student.to_json() for student in classes.students(log, room.name)]})

    return await request.app.state.db.run(run, leaving=_left(request))


def _board_sessions(request) -> set[str] | None:
    text = request.query_params.get("sessions")
    if text is None or text == "":
        return None
    wanted = text.split(",")
    if len(wanted) > MAX_BOARD_SESSIONS or not all(re.fullmatch(r"[0-9a-f]{1,64}", one) for one in wanted):
        raise Refused(400, f"sessions must be up to {MAX_BOARD_SESSIONS} session ids, separated by commas",
                      "sessions")
    return set(wanted)


@endpoint
async def boards(request):
    room = _room(request)
    grid = query_int(request, "grid", BOARD_GRID, 2, MAX_BOARD_GRID)
    wanted = _board_sessions(request)

    def run(log):
        # the overview asks for the boards that moved: only those are read and drawn
        return JSONResponse({"grid": grid, "boards": classes.boards(log, room.name, grid, wanted)})

    return await request.app.state.db.run(run, leaving=_left(request))


@endpoint
async def pause(request):
    body = vet(await read_body(request), PAUSE_SPEC, required=("paused",))
    info = await request.app.state.db.run(classes.set_paused, _room(request).name, body["paused"])
    return JSONResponse({"paused": info.paused})


@endpoint
@costly
async def export(request):
    room = _room(request)

    def produce(log, lines, write):
        for line in lines:
            write(line if line.endswith("\n") else line + "\n")

    # class_export checks the class exists before its first line: a missing class is a 404, not a short stream
    _, body = await stream(request.app.state.db.path, lambda log: _first_checked(classes.class_export(log, room.name)),
                           produce)
    return StreamingResponse(body, media_type="application/x-ndjson",
                             headers={"Content-Disposition": _attachment(f"class-{room.name}", ".jsonl")})


def _first_checked(lines):
    """`lines` with its first item already read: the errors a generator raises on its first step (no such
    class) come out in `prepare`, before the answer starts."""
    import itertools

    first = next(lines, None)
    return lines if first is None else itertools.chain([first], lines)


@endpoint
@costly
async def audit(request):
    room = _room(request)

    def run(log):
        report = classes.class_audit(log, room.name).to_json()
        report["database"] = request.app.state.database_name
        return report

    return JSONResponse(await request.app.state.db.run(run, leaving=_left(request)))


# -- a student's answers in place of the owner's --------------------------------------------------------------
@endpoint
async def own_sessions(request):
    """GET /api/sessions for a student: the listing of their own sessions only."""
    room, you = _room(request), await resolve(request)

    def run(log):
        student = classes.student_by_token(log, room.name, you.token)
        mine = set(student.sessions if student is not None else ())
        return JSONResponse([row for row in service.list_sessions(log) if row["id"] in mine])

    return await request.app.state.db.run(run, leaving=_left(request))


@endpoint
async def lesson_session(request):
    """POST /api/sessions for a student: another session of the lesson; a setting that differs is refused."""
    room, you = _room(request), await resolve(request)
    body = vet(await read_body(request), _settings_spec())
    name = body.pop("name", None)
    if body.pop("seed", None) is not None:
        raise Refused(403, "in a class each student's seed is drawn for them; leave seed out", "seed")

    def run(log):
        found = classes.find_class(log, room.name)
        if found.paused:
            raise classes.ClassPaused(f"class {room.name!r} is paused by the teacher; new sessions wait until it "
                                      f"is resumed", field="class")
        lesson = {key: value for key, value in found.settings.items() if key in service.SETTINGS}
        recorded = service.settings_from({**lesson, "seed": 0})
        asked = service.settings_from({**lesson, **body, "seed": 0})
        for key in body:
            if getattr(asked, key) != getattr(recorded, key):
                raise Refused(403, f"{key} is the class's: in this lesson it is {lesson.get(key, getattr(recorded, key))!r}",
                              key)
        return classes.new_student_session(log, room.name, you.token, name=name)

    info = await request.app.state.db.run(run)
    return JSONResponse({"id": info.id, "name": info.name, "learner": info.learner, "seed": info.seed},
                        status_code=201, headers={"Location": f"/api/sessions/{info.id}"})


@endpoint
async def live(request):
    """/api/live in class mode: the teacher hears every head and the class; a student only their own."""
    view = request.app.state.live.view_for(await resolve(request))
    return StreamingResponse(request.app.state.live.stream(view), media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})
