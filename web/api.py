"""The HTTP API: JSON in and out, each handler one `service` call in a worker thread (or, for work that
service.budget reckons costly, in a worker process: web/jobs.py).

The contract (paths, bodies, answers, status codes) is written in docs/api.md.
"""

import asyncio
import functools
import json
import re
from urllib.parse import quote

from starlette.responses import JSONResponse, Response, StreamingResponse

import service
from engine import NnreplayError
from web import jobs
from web.roles import CLAIMANT, describe
from web.streams import stream
from web.answers import Refused, crash, query_flag, query_int, read_body, refusal, refuse_repeats, vet

MAX_WEB_COUNT = 1_000  # presses per request: a page presses a few at a time, and a request must stay short
MAX_EVENTS = 10_000
PRESS_SPEC = {"press": ("text",), "count": ("int",), "key": ("text",)}
FORK_SPEC = {"at": ("int",), "name": ("text", "null")}


def endpoint(handler):
    """Errors become JSON answers: nnreplay's own by the table in answers.py, anything else a bare 500."""

    @functools.wraps(handler)
    async def answer(request):
        try:
            refuse_repeats(request)
            return await handler(request)
        except NnreplayError as exc:
            return refusal(exc, request.app.state.db.path)
        except Exception as exc:
            return crash(exc)

    return answer


MAX_WAITING = 16  # costly requests of one client waiting their turn; more are refused (429)


def costly(handler):
    """One costly request at a time per client (its address): a fold, metrics, events, an export, a GIF.
    The others wait their turn without holding a thread; a client that queues more than MAX_WAITING is
    refused, so that no one client can fill the workers while the rest wait."""

    @functools.wraps(handler)
    async def one_at_a_time(request):
        turns = request.app.state.turns
        client = request.client.host if request.client else ""
        turn = turns.get(client)
        if turn is None:
            turn = turns[client] = [asyncio.Semaphore(1), 0]
        if turn[1] >= MAX_WAITING:
            raise Refused(429, f"this client already has {MAX_WAITING} costly requests waiting; wait for them",
                          None)
        turn[1] += 1
        try:
            await turn[0].acquire()
        finally:
            turn[1] -= 1
        try:
            return await handler(request)
        finally:
            turn[0].release()
            if turn[1] == 0 and not turn[0].locked():
                turns.pop(client, None)

    return one_at_a_time


def writable(handler):
    @functools.wraps(handler)
    async def check(request):
        if request.app.state.read_only:
            raise Refused(403, "this server is read-only (started with --read-only): presses are refused")
        return await handler(request)

    return check


async def _answer(request, operation, *args, leaving=None) -> JSONResponse:
    """`operation(log, *args)` as a JSON answer, encoded in the worker thread: a large answer's encoding
    used to run on the event loop, stalling every other request for up to seconds."""
    return await request.app.state.db.run(lambda log: JSONResponse(operation(log, *args)), leaving=leaving)


async def _computed(request, job, *args) -> Response:
    """A web/jobs.py job's JSON, computed in a thread or a worker process as its cost says."""
    body = await request.app.state.db.compute(job, *args, leaving=_left(request))
    return Response(body, media_type="application/json")


async def _left(request) -> None:
    """Returns when the client has gone away (its connection closed): the work it asked for is abandoned."""
    while (await request.receive())["type"] != "http.disconnect":
        pass


MAX_REF = 200  # the longest name; an id is 32 characters


def _ref(request) -> str:
    """The session named in the path; a reference longer than any name is refused before the store is
    asked (and is not echoed back whole)."""
    ref = request.path_params["ref"]
    if len(ref) > MAX_REF:
        raise Refused(404, f"no session is named by {len(ref):,} characters (a name has at most {MAX_REF})", "ref")
    return ref


def _attachment(label: str, suffix: str) -> str:
    """A download's name: ASCII for every client, and the name itself (RFC 6266's filename*) for those that
    read it, so that "ünïcødé ☃" is not saved as "n-c-d"."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "-", label).strip("-") or "session"
    full = re.sub(r'[\x00-\x1f\x7f/\\:*?"<>|]+', "-", label).strip(" .-")[:150] or "session"
    return f"attachment; filename=\"{safe}{suffix}\"; filename*=UTF-8''{quote(full + suffix, safe='')}"


def _kinds(default) -> tuple[str, ...]:
    """The JSON kinds a setting takes, read off its default, so that settings the engine gains are
    accepted without code here; the engine's Settings then judges the value itself."""
    if isinstance(default, bool):
        return ("bool",)
    if isinstance(default, int):
        return ("int",)
    if isinstance(default, float):
        return ("number",)
    if isinstance(default, str):
        return ("text",)
    if isinstance(default, (list, tuple)):
        return ("list", "text")  # [16, 8] or "16, 8": the engine's Settings reads either
    return ("int", "number", "text", "bool", "list", "null")


def _defaults() -> dict:
    return {key: list(value) if isinstance(value, tuple) else value for key, value in service.SETTING_DEFAULTS.items()
            if value is None or isinstance(value, (bool, int, float, str, list, tuple))}


@endpoint
async def server_info(request):
    return JSONResponse({"read_only": request.app.state.read_only, "database": request.app.state.database_name,
                         "presses": list(service.PRESSES), "settings": _defaults(),
                         "choices": service.page.setting_choices(), **(await describe(request))})


@endpoint
async def list_sessions(request):
    return await _answer(request, service.list_sessions, leaving=_left(request))


def _settings_spec() -> dict:
    return {"name": ("text", "null"), "seed": ("int", "null"),
            **{key: _kinds(default) for key, default in service.SETTING_DEFAULTS.items() if key != "seed"}}


@endpoint
@writable
async def new_session(request):
    body = vet(await read_body(request), _settings_spec())
    name = body.pop("name", None)
    info = await request.app.state.db.run(service.new_session, name, **body)
    return JSONResponse({"id": info.id, "name": info.name, "learner": info.learner, "seed": info.seed},
                        status_code=201, headers={"Location": f"/api/sessions/{info.id}"})


@endpoint
@costly
async def show(request):
    at = query_int(request, "at", least=1)
    grid = query_int(request, "grid", service.page.GRID, 2, service.page.MAX_GRID)
    points = query_flag(request, "points", True)
    units = query_int(request, "units", None, 2, service.units.MAX_UNIT_GRID)
    truth = query_flag(request, "truth", True)
    return await _computed(request, jobs.state, _ref(request), at, grid, points, units, truth)


@endpoint
@writable
async def press(request):
    body = vet(await read_body(request), PRESS_SPEC, required=("press",))
    count = body.get("count", 1)
    if not 1 <= count <= MAX_WEB_COUNT:
        raise Refused(400, f"count must be from 1 to {MAX_WEB_COUNT:,} per request, got {count}", "count")
    service.check_press(body["press"])
    # the answer as a page draws it: the same ?grid and ?units as a GET, checked before anything is written
    grid = query_int(request, "grid", service.page.GRID, 2, service.page.MAX_GRID)
    units = query_int(request, "units", None, 2, service.units.MAX_UNIT_GRID)
    points = query_flag(request, "points", True)
    truth = query_flag(request, "truth", True)
    header = request.headers.get("idempotency-key")
    if header is not None and "key" in body and header != body["key"]:
        raise Refused(400, "the Idempotency-Key header and the body's key differ; give one", "key")
    key = header if header is not None else body.get("key")
    drawn = dict(grid=grid, points=points, units=units, truth=truth)
    # a client that leaves abandons its presses, as a GET's fold: nothing is committed after its failure
    state, again = await request.app.state.db.compute(jobs.press, _ref(request), body["press"], count, key, drawn,
                                                      request.scope.get(CLAIMANT), leaving=_left(request))
    # a retry of a recorded key is answered with the first result, flagged (the IETF draft's header name)
    return Response(state, media_type="application/json",
                    headers={"Idempotent-Replayed": "true"} if again else None)


press.claims = True  # a student's press is claimed by its job (web/capabilities.py: own_press)


@endpoint
@costly
async def events(request):
    after = query_int(request, "after", 0, 0)
    limit = query_int(request, "limit", 1_000, 1, MAX_EVENTS)
    # the budget is checked first; costly metrics are folded (and checked) in a worker process
    metrics = await request.app.state.db.compute(jobs.event_metrics, _ref(request), after, limit,
                                                 leaving=_left(request))

    def prepare(log):
        info = log.resolve(_ref(request))
        if metrics is not None:
            rows = log.rows(info.id, after + 1, after + len(metrics))
            return (dict(row.to_json(), **fields) for row, fields in zip(rows, metrics))
        # every state of the range is checked against its record before the first byte (a 409 must come
        # before a 200 has started); the answer then folds the range again, one event at a time
        for _ in service.iter_events(log, info.id, True, after, limit, checked=True):
            pass
        return service.iter_events(log, info.id, True, after, limit)

    def produce(log, events, write):
        # one JSON array, an event at a time: memory does not grow with the answer; each event is encoded
        # in this thread, off the event loop
        write("[")
        for number, event in enumerate(events):
            write(("," if number else "") + json.dumps(event, ensure_ascii=False, allow_nan=False,
                                                       separators=(",", ":")))
        write("]")

    _, body = await stream(request.app.state.db.path, prepare, produce)
    return StreamingResponse(body, media_type="application/json")


@endpoint
@costly
async def metrics(request):
    return await _computed(request, jobs.metrics, _ref(request))


@endpoint
@costly
async def export(request):
    from store.portable import export as write_export

    def prepare(log):
        return log.resolve(_ref(request))

    def produce(log, info, write):
        write_export(log, info, _Writer(write))

    info, body = await stream(request.app.state.db.path, prepare, produce)
    return StreamingResponse(body, media_type="application/x-ndjson",
                             headers={"Content-Disposition": _attachment(info.label, ".jsonl")})


class _Writer:
    """A text file's `write` over a stream's."""

    def __init__(self, write):
        self.write = write


@endpoint
@costly
async def audit(request):
    return await _computed(request, jobs.audit, _ref(request), request.app.state.database_name)


@endpoint
@writable
async def fork(request):
    body = vet(await read_body(request), FORK_SPEC, required=("at",))
    info = await request.app.state.db.run(service.fork, _ref(request), body["at"], body.get("name"))
    return JSONResponse({"id": info.id, "name": info.name, "parent_id": info.parent_id,
                         "parent_seq": info.parent_seq}, status_code=201,
                        headers={"Location": f"/api/sessions/{info.id}"})


MAX_WEB_REPRESS = 10_000  # presses one request may re-press: `nnreplay repress` takes any length


@endpoint
@writable
async def repress(request):
    body = vet(await read_body(request), {key: (*kinds, "null") for key, kinds in _settings_spec().items()})
    name = body.pop("name", None)

    def run(log):
        original = log.resolve(_ref(request))
        presses = log.head(original.id)[0] - 1
        if presses > MAX_WEB_REPRESS:
            raise Refused(413, f"{original.label} has {presses:,} presses; a request re-presses at most "
                               f"{MAX_WEB_REPRESS:,} (`nnreplay repress` takes any length)", "ref")
        _, settings, _ = service.repress_plan(log, original.id, body)
        # the same bound as any request that computes steps: its presses, with the settings it would have
        service.budget.check_fold(settings, presses, None, "A re-press")
        return service.repress(log, original.id, name, **body)

    original, info = await request.app.state.db.run(run)
    return JSONResponse({"id": info.id, "name": info.name, "learner": info.learner, "seed": info.seed,
                         "origin": {"session_id": original.id, "name": original.name}},
                        status_code=201, headers={"Location": f"/api/sessions/{info.id}"})


@endpoint
@costly
async def replay_gif(request):
    frames = query_int(request, "max_frames", 120, 1, 1_000)
    size = query_int(request, "size", 480, 160, 1_440)
    async with request.app.state.gif_turn:
        label, gif = await request.app.state.db.compute(jobs.gif, _ref(request), frames, size, leaving=_left(request))
    return Response(gif, media_type="image/gif", headers={"Content-Disposition": _attachment(label, ".gif")})


@endpoint
async def live(request):
    return StreamingResponse(request.app.state.live.stream(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})
