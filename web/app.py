"""The Starlette application: routes for the API and the page, the guard, the live watcher's lifetime."""

import asyncio
import contextlib
from importlib import resources

from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import Route

from engine.dataset import KINDS
from store import short_name
from web import api, capabilities
from web.class_live import ClassLive
from web.answers import error
from web.database import Database
from web.guard import Guard
from web.live import Live

# the page's files, by name: nothing outside this list is ever served, whatever the path asks for
STATIC = {"app.js": "text/javascript", "common.js": "text/javascript", "session.js": "text/javascript",
          "compare.js": "text/javascript", "draw.js": "text/javascript", "form.js": "text/javascript",
          "inside.js": "text/javascript", "readouts.js": "text/javascript", "style.css": "text/css",
          "index.html": "text/html",
          # class mode's pages: the join page and the teacher's overview
          "join.html": "text/html", "join.js": "text/javascript", "class.html": "text/html", "class.js": "text/javascript",
          # the New-session form's data-set thumbnails (docs/make_thumbnails.py draws them)
          **{f"data-{kind}.png": "image/png" for kind in KINDS}}


def _read_static() -> dict[str, bytes]:
    folder = resources.files("web") / "static"
    return {name: (folder / name).read_bytes() for name in STATIC}


def class_routes() -> list[Route]:
    from web import class_api

    return [
        Route("/teacher/{secret:path}", class_api.teacher_link), Route("/join", class_api.join_page),
        Route("/class", class_api.class_page),
        Route("/api/join", class_api.join, methods=["POST"]),
        Route("/api/class", class_api.overview), Route("/api/class/boards", class_api.boards),
        Route("/api/class/pause", class_api.pause, methods=["POST"]),
        Route("/api/class/export", class_api.export), Route("/api/class/audit", class_api.audit),
    ]


def build(path: str, hosts, read_only: bool = False, classroom=None) -> Guard:
    """The application serving the database at `path`; `hosts` as web.guard.allowed_hosts gives them;
    `classroom` (web.classroom) for class mode, where web/capabilities.py decides who may use each route."""
    files = _read_static()

    async def page(request):
        return Response(files["index.html"], media_type="text/html; charset=utf-8",
                        headers={"Cache-Control": "no-cache"})

    async def static(request):
        name = request.path_params["name"]
        if name not in STATIC:
            return error(404, "no such file", "path")
        kind = STATIC[name] + ("" if STATIC[name].startswith("image/") else "; charset=utf-8")
        return Response(files[name], media_type=kind, headers={"Cache-Control": "no-cache"})

    async def not_found(request, exc):
        return error(404, f"nothing at {request.url.path[:200]}", "path")

    async def not_allowed(request, exc):
        answer = error(405, f"{request.method[:20]} is not allowed here", "method")
        allow = (getattr(exc, "headers", None) or {}).get("Allow")
        if allow:  # RFC 9110: a 405 says which methods the resource takes
            answer.headers["Allow"] = allow
        return answer

    live = Live(path) if classroom is None else ClassLive(path, classroom)

    @contextlib.asynccontextmanager
    async def lifespan(app):
        watcher = asyncio.create_task(live.watch())
        try:
            yield
        finally:
            live.stopping.set()
            await watcher
            # the first connection opened (the watcher's) closes last: it is the one that opened the file
            # without a -wal beside it, so it may checkpoint and remove the -wal and -shm files
            app.state.db.close()
            live.close()

    routes = [
        # every address under /sessions/ is the page's, malformed ones too: it says "not found" itself
        Route("/", page), Route("/sessions/{ref:path}", page), Route("/compare", page),
        Route("/static/{name}", static),
        Route("/api/server", api.server_info),
        Route("/api/sessions", api.list_sessions, methods=["GET"]),
        Route("/api/sessions", api.new_session, methods=["POST"]),
        Route("/api/live", api.live),
        Route("/api/sessions/{ref}", api.show),
        Route("/api/sessions/{ref}/presses", api.press, methods=["POST"]),
        Route("/api/sessions/{ref}/events", api.events),
        Route("/api/sessions/{ref}/metrics", api.metrics),
        Route("/api/sessions/{ref}/export", api.export),
        Route("/api/sessions/{ref}/audit", api.audit),
        Route("/api/sessions/{ref}/fork", api.fork, methods=["POST"]),
        Route("/api/sessions/{ref}/repress", api.repress, methods=["POST"]),
        Route("/api/sessions/{ref}/replay.gif", api.replay_gif),
    ]
    if classroom is not None:
        routes = capabilities.enforced(routes + class_routes())
    app = Starlette(routes=routes, lifespan=lifespan, exception_handlers={404: not_found, 405: not_allowed})
    app.state.db, app.state.live, app.state.read_only = Database(path), live, read_only
    app.state.database_name = short_name(path)
    app.state.classroom, app.state.files = classroom, files
    # one GIF drawn at a time per server process: drawing is CPU-bound and holds the GIL, so several at once
    # slowed every other answer (six pushed a 3 ms press to ~100 ms); waiters queue without holding a thread
    app.state.gif_turn = asyncio.Semaphore(1)
    app.state.turns = {}  # client address -> [its turn for costly requests, how many wait for it]
    return Guard(app, hosts)
