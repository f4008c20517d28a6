"""Class mode over HTTP against a real `nnreplay serve --class`: joining, who may do what, pause, the live
channel per reader, export and restart."""

import asyncio
import json
import subprocess
import sys

import httpx
import pytest

from serving import ROOT, Server, run_async

LESSON = ("--class", "4b", "--points", "20")


@pytest.fixture
def room(db_path):
    running = Server(db_path, *LESSON)
    yield running
    running.stop()


def join(server: Server, name: str, code: str | None = None) -> tuple[httpx.Client, dict]:
    """A student's client (holding their cookie) and the join answer."""
    http = server.client()
    answer = http.post("/api/join", json={"code": code or server.code, "name": name})
    assert answer.status_code == 201, answer.text
    return http, answer.json()


def teacher(server: Server) -> httpx.Client:
    http = server.client()
    answer = http.get(server.teacher_link.removeprefix(server.url), follow_redirects=False)
    assert answer.status_code == 303, answer.text
    return http


def press(http: httpx.Client, session: str) -> httpx.Response:
    return http.post(f"/api/sessions/{session}/presses?grid=2&points=false", json={"press": "next"})


def cli(db: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", "import cli; cli.main()", "--db", db, *args], capture_output=True,
                          text=True, cwd=ROOT, timeout=120, env={"PYTHONPATH": ROOT, "PATH": "/usr/bin:/bin"})


def test_serve_prints_a_join_code_and_a_teacher_link_once(room):
    """The students' line has the join address and a 10-character code in two halves of look-alike-free
    characters; the teacher's line a secret of at least 128 bits."""
    students, teacher_line = room.class_lines
    assert students.startswith("students:") and f"{room.url}/join" in students
    assert len(room.code) == 11 and room.code[5] == "-"
    assert set(room.code.replace("-", "")) <= set("ACDEFGHJKMNPQRTUVWXY34679")
    assert teacher_line.startswith("teacher:")
    secret = room.teacher_link.rsplit("/", 1)[1]
    assert len(secret) >= 22  # 22 urlsafe base64 characters carry 132 bits


def test_a_student_joins_with_the_code_typed_loosely_and_comes_back_to_their_session(room):
    """Case, dashes and spaces are forgiven; the answer names the session; the cookie is HttpOnly and
    SameSite=Strict; /join and /api/join send a returning student back to the same session."""
    http = room.client()
    typed = " " + room.code.replace("-", " ").lower() + " "
    answer = http.post("/api/join", json={"code": typed, "name": "Ada"})
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert body["name"] == "Ada" and body["class"] == "4b" and body["page"] == f"/sessions/{body['session']}"
    cookie = answer.headers["set-cookie"].lower()
    assert "nnreplay_student=" in cookie and "httponly" in cookie and "samesite=strict" in cookie and "path=/" in cookie
    assert http.get(f"/api/sessions/{body['session']}").json()["points"] is not None
    again = http.post("/api/join", json={"code": room.code, "name": "Ada again"})
    assert again.status_code == 200 and again.json()["session"] == body["session"]
    back = http.get("/join", follow_redirects=False)
    assert back.status_code == 303 and back.headers["location"] == body["page"]
    you = http.get("/api/server").json()["you"]
    assert you == {"role": "student", "name": "Ada", "sessions": [body["session"]]}


def test_a_taken_name_gets_a_suffix_and_a_bad_name_is_refused(room):
    _, first = join(room, "Bo")
    _, second = join(room, "Bo")
    assert first["name"] == "Bo" and second["name"] == "Bo 2" and first["session"] != second["session"]
    for bad in ("", "   ", "x" * 41):
        answer = room.client().post("/api/join", json={"code": room.code, "name": bad})
        assert answer.status_code == 400 and answer.json()["field"] == "name"


def test_a_hostile_name_comes_back_as_json_text_unchanged(room):
    """Names are data: the API returns them as JSON strings (the pages escape them where they show them)."""
    hostile = '<img src=x onerror=alert(1)>"\''
    http, body = join(room, hostile)
    assert body["name"] == hostile
    roster = teacher(room).get("/api/class")
    assert roster.headers["content-type"].startswith("application/json")
    assert [student["name"] for student in roster.json()["students"]] == [hostile]


def test_a_wrong_code_is_403_and_the_eleventh_in_a_minute_429_even_when_right(room):
    http = room.client()
    for _ in range(10):
        answer = http.post("/api/join", json={"code": "AAAAA-AAAAA", "name": "Eve"})
        assert answer.status_code == 403 and answer.json()["field"] == "code"
    eleventh = http.post("/api/join", json={"code": "AAAAA-AAAAA", "name": "Eve"})
    assert eleventh.status_code == 429 and int(eleventh.headers["retry-after"]) >= 1
    right = http.post("/api/join", json={"code": room.code, "name": "Eve"})
    assert right.status_code == 429
    assert teacher(room).get("/api/class").json()["students"] == []


def test_a_full_class_refuses_the_next_student(db_path):
    running = Server(db_path, *LESSON, "--max-students", "2")
    try:
        join(running, "a"), join(running, "b")
        answer = running.client().post("/api/join", json={"code": running.code, "name": "c"})
        assert answer.status_code == 409 and answer.json()["field"] == "class"
    finally:
        running.stop()


def test_joins_racing_for_the_last_seats_never_overfill_the_class(db_path):
    running = Server(db_path, *LESSON, "--max-students", "5")
    try:
        async def rush():
            async with httpx.AsyncClient(base_url=running.url, timeout=60) as http:
                return await asyncio.gather(*(http.post("/api/join", json={"code": running.code, "name": "same"})
                                              for _ in range(12)))

        answers = run_async(rush())
        statuses = sorted(answer.status_code for answer in answers)
        assert statuses == [201] * 5 + [409] * 7
        shown = {answer.json()["name"] for answer in answers if answer.status_code == 201}
        assert len(shown) == 5  # one name each, suffixed
        assert len(teacher(running).get("/api/class").json()["students"]) == 5
    finally:
        running.stop()


def test_a_student_presses_their_own_session_and_no_other(room):
    ada, mine = join(room, "Ada")
    bo, theirs = join(room, "Bo")
    refused = press(ada, theirs["session"])
    assert refused.status_code == 403 and refused.json()["field"] == "ref"
    # the press's own job claims the session: by an id's prefix, the class record by its name, a name no
    # session has, with an idempotency key: each refused alike, so no answer tells that a name or id exists
    for ref in (theirs["session"][:8], "4b", "no such session"):
        answer = ada.post(f"/api/sessions/{ref}/presses", json={"press": "next"})
        assert (answer.status_code, answer.json()["field"]) == (403, "ref"), ref
    keyed = ada.post(f"/api/sessions/{theirs['session']}/presses", json={"press": "next", "key": "k1"})
    assert (keyed.status_code, keyed.json()["field"]) == (403, "ref")
    assert ada.get(f"/api/sessions/{theirs['session']}").status_code == 403
    assert ada.post(f"/api/sessions/{theirs['session']}/fork", json={"at": 1}).status_code == 403
    assert press(ada, mine["session"]).status_code == 200
    assert ada.post(f"/api/sessions/{mine['session']}/fork", json={"at": 2}).status_code == 201
    heads = {row["id"]: row["events"] for row in teacher(room).get("/api/sessions").json()}
    assert heads[theirs["session"]] == 1 and heads[mine["session"]] == 2


def test_class_views_are_the_teachers_only(room):
    ada, _ = join(room, "Ada")
    for path in ("/class", "/api/class", "/api/class/boards", "/api/class/audit", "/api/class/export"):
        answer = ada.get(path)
        assert answer.status_code == 403, path
        assert answer.json()["field"] == "cookie"
    assert ada.post("/api/class/pause", json={"paused": True}).status_code == 403
    visitor = room.client()
    assert visitor.get("/api/sessions").json()["field"] == "cookie"
    assert visitor.get("/", follow_redirects=False).headers["location"] == "/join"
    assert visitor.get("/sessions/x", follow_redirects=False).headers["location"] == "/join"
    assert visitor.get("/join").status_code == 200 and visitor.get("/static/join.js").status_code == 200
    assert visitor.get("/api/server").json()["you"]["role"] == "visitor"


def test_the_teacher_link_sets_a_cookie_and_leaves_no_referrer(room):
    http = room.client()
    answer = http.get(room.teacher_link.removeprefix(room.url), follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/class"
    assert answer.headers["referrer-policy"] == "no-referrer"
    cookie = answer.headers["set-cookie"].lower()
    assert "nnreplay_teacher=" in cookie and "httponly" in cookie and "samesite=strict" in cookie
    assert room.teacher_link.rsplit("/", 1)[1].lower() not in cookie
    assert http.get("/class").status_code == 200
    assert http.get("/api/server").json()["you"]["role"] == "teacher"
    wrong = room.client().get("/teacher/" + "A" * 43, follow_redirects=False)
    assert wrong.status_code == 403 and "A" * 43 not in wrong.text


def test_the_teacher_reads_every_session_and_presses_none_of_a_students(room):
    _, body = join(room, "Ada")
    http = teacher(room)
    assert http.get(f"/api/sessions/{body['session']}").status_code == 200
    for answer in (press(http, body["session"]),
                   http.post(f"/api/sessions/{body['session']}/fork", json={"at": 1}),
                   http.post(f"/api/sessions/{body['session']}/repress", json={})):
        assert answer.status_code == 403 and answer.json()["field"] == "ref"
    assert http.get("/api/class").json()["students"][0]["presses"] == 0


def test_pause_makes_presses_423_until_resumed(room):
    ada, body = join(room, "Ada")
    http = teacher(room)
    assert http.post("/api/class/pause", json={"paused": True}).json() == {"paused": True}
    assert ada.get("/api/server").json()["class"]["paused"] is True
    paused = press(ada, body["session"])
    assert paused.status_code == 423 and "paused" in paused.json()["error"]
    assert ada.post("/api/sessions", json={}).status_code == 423
    assert ada.post(f"/api/sessions/{body['session']}/fork", json={"at": 1}).status_code == 423
    assert [row["id"] for row in ada.get("/api/sessions").json()] == [body["session"]]
    assert http.post("/api/class/pause", json={"paused": False}).json() == {"paused": False}
    assert press(ada, body["session"]).status_code == 200
    assert http.get("/api/class").json()["students"][0]["presses"] == 1


def test_presses_beyond_twenty_a_second_are_429(room):
    """A burst of 60 presses at once: the bucket lets about 20 through and refuses the rest, saying when
    to try again; another student's presses are not held back by it."""
    import asyncio

    ada, body = join(room, "Ada")
    bo, theirs = join(room, "Bo")

    async def burst():
        async with httpx.AsyncClient(base_url=room.url, timeout=60, cookies=ada.cookies) as http:
            return await asyncio.gather(*(http.post(f"/api/sessions/{body['session']}/presses?grid=2&points=false",
                                                    json={"press": "next"}) for _ in range(60)))

    answers = run_async(burst())
    limited = [answer for answer in answers if answer.status_code == 429]
    assert limited and all(int(answer.headers["retry-after"]) >= 1 for answer in limited)
    assert all(answer.status_code in (200, 429) for answer in answers)
    assert press(bo, theirs["session"]).status_code == 200


def test_a_student_lists_and_hears_only_their_own_sessions(room):
    ada, mine = join(room, "Ada")
    bo, theirs = join(room, "Bo")
    assert [row["id"] for row in ada.get("/api/sessions").json()] == [mine["session"]]
    assert press(bo, theirs["session"]).status_code == 200
    seen, classes_heard, cy = [], 0, None
    with ada.stream("GET", "/api/live") as live:
        for name, data in _events(live):
            seen.append((name, data))
            if name == "class":
                classes_heard += 1
                if classes_heard == 1:  # the stream's first: now a student joins while Ada listens
                    cy = join(room, "Cy")[1]
                elif classes_heard == 2:  # Cy's join, as Ada hears it: then presses, Bo's and her own
                    assert press(bo, theirs["session"]).status_code == 200
                    assert press(ada, mine["session"]).status_code == 200
            elif classes_heard >= 2 and mine["session"] in data.get("changed", {}):
                break
    ids = {sid for name, data in seen if name == "heads" for sid in data.get("changed", {})}
    assert ids == {mine["session"]}
    # no other student's session, name or count: a class event tells a student only whether it is paused
    assert theirs["session"] not in json.dumps(seen) and cy["session"] not in json.dumps(seen)
    assert "Cy" not in json.dumps(seen)
    assert [data for name, data in seen if name == "class"] == [{"paused": False}] * 2


def test_a_student_starts_sessions_only_in_the_lesson(room):
    ada, mine = join(room, "Ada")
    refused = ada.post("/api/sessions", json={"points": 99})
    assert refused.status_code == 403 and refused.json()["field"] == "points"
    assert ada.post("/api/sessions", json={"seed": 5}).json()["field"] == "seed"
    made = ada.post("/api/sessions", json={"points": 20})
    assert made.status_code == 201, made.text
    assert {row["id"] for row in ada.get("/api/sessions").json()} == {mine["session"], made.json()["id"]}
    assert press(ada, made.json()["id"]).status_code == 200


def test_the_class_export_imports_elsewhere_and_audits_clean(room, tmp_path):
    ada, body = join(room, "Ada")
    for _ in range(3):
        assert press(ada, body["session"]).status_code == 200
    _, bo = join(room, "Bo")
    http = teacher(room)
    assert http.get("/api/class/audit").json()["ok"] is True
    export = http.get("/api/class/export")
    assert export.status_code == 200 and 'filename="class-4b.jsonl"' in export.headers["content-disposition"]
    path = tmp_path / "class.jsonl"
    path.write_bytes(export.content)
    other = str(tmp_path / "other.db")
    imported = cli(other, "import", str(path))
    assert imported.returncode == 0, imported.stderr
    assert cli(other, "audit").returncode == 0
    listed = {row["id"]: row["events"] for row in json.loads(cli(other, "sessions", "--json").stdout)}
    class_id = http.get("/api/class").json()["id"]
    assert listed == {class_id: 1, body["session"]: 4, bo["session"]: 1}
    shown = cli(other, "class", "show", "4b")
    assert shown.returncode == 0 and "Ada" in shown.stdout and "Bo" in shown.stdout


def test_a_restart_with_the_same_name_continues_the_class(db_path):
    first = Server(db_path, *LESSON)
    try:
        ada, body = join(first, "Ada")
        assert press(ada, body["session"]).status_code == 200
        cookies = dict(ada.cookies)
    finally:
        first.stop()
    refused = cli(db_path, "serve", "--port", "0", "--class", "4b", "--points", "30")
    assert refused.returncode == 1 and len(refused.stderr.strip().splitlines()) == 1
    assert "--points" in refused.stderr
    again = Server(db_path, "--class", "4b")
    try:
        assert again.code != first.code
        back = again.client(cookies=cookies)
        answer = back.post("/api/join", json={"code": "wrong", "name": "x"})
        assert answer.status_code == 200 and answer.json()["session"] == body["session"]
        assert press(back, body["session"]).status_code == 200
        students = teacher(again).get("/api/class").json()["students"]
        assert [(s["name"], s["session"], s["presses"]) for s in students] == [("Ada", body["session"], 2)]
    finally:
        again.stop()


def test_the_boards_are_compact_grids_of_every_student(room):
    import base64

    ada, body = join(room, "Ada")
    press(ada, body["session"])
    join(room, "Bo")
    http = teacher(room)
    boards = http.get("/api/class/boards?grid=8").json()
    assert boards["grid"] == 8 and len(boards["boards"]) == 2
    for board in boards["boards"]:
        assert len(base64.b64decode(board["probabilities"])) == 64
        assert len(base64.b64decode(board["points"])) == 3 * 20
    one = http.get(f"/api/class/boards?sessions={body['session']}").json()["boards"]
    assert [board["session"] for board in one] == [body["session"]] and one[0]["seq"] == 2


def test_the_secret_never_reaches_the_servers_log(room):
    teacher(room)
    room.client().get("/teacher/wrong/and/more")
    room.stop()
    secret = room.teacher_link.rsplit("/", 1)[1]
    assert secret not in room.process.stderr.read() and secret not in "".join(room.stdout_rest)


def test_every_route_is_in_the_capability_table():
    """A route added later is refused in class mode until the table says who may use it: this test says
    which route is missing, rather than a class finding out."""
    from web import app as application, capabilities

    routes = application.build(":memory:", {"x"}, classroom=object()).app.routes
    missing = [(method, route.path) for route in routes for method in route.methods - {"HEAD"}
               if (method, route.path) not in capabilities.TABLE]
    assert missing == []


def test_without_a_class_the_server_is_the_owners(server):
    with server.client() as http:
        assert http.get("/api/server").json()["you"] == {"role": "owner", "name": None, "sessions": None}
        assert http.get("/api/class").status_code == 404
        assert http.post("/api/sessions/grad/presses", json={"press": "next"}).status_code == 200


def _events(live):
    """(event name, data) of a server-sent event stream, as they come."""
    name = None
    for line in live.iter_lines():
        if line.startswith("event:"):
            name = line[6:].strip()
        elif line.startswith("data:"):
            yield name, json.loads(line[5:])


def test_the_teachers_live_stream_says_when_a_student_joins_and_when_the_class_pauses(room):
    http = teacher(room)
    ada = []

    def second_session_then_bo():  # Ada's second session is no new student: Bo's join names Bo alone
        assert ada[0].post("/api/sessions", json={}).status_code == 201
        join(room, "Bo")

    steps = [lambda: ada.append(join(room, "Ada")[0]), second_session_then_bo,
             lambda: http.post("/api/class/pause", json={"paused": True})]
    seen = []
    with http.stream("GET", "/api/live") as live:
        for name, data in _events(live):
            if name != "class":
                continue
            seen.append(data)
            if not steps:
                if data["paused"]:
                    break
                continue
            steps.pop(0)()
    assert seen[0] == {"paused": False, "students": 0}
    # a join names the student and their board's session, so that the overview needs no reread of the class
    joined = [data for data in seen if "joined" in data]
    named = [(data["students"], [row["name"] for row in data["joined"]]) for data in joined]
    assert named == [(1, ["Ada"]), (2, ["Bo"])]
    firsts = [row["session"] for row in http.get("/api/class").json()["students"]]
    assert [data["joined"][0]["session"] for data in joined] == firsts
    assert seen[-1] == {"paused": True, "students": 2}
