"""Who may do what in class mode: one table, every route of the API and the page, enforced in one place.

`enforced(routes)` wraps each route's endpoint: the request's role is resolved once (web/roles.py), the
table gives the action for that route, method and role, and the action lets the request through, answers
in its place (a student's own listing), sends it to /join, or refuses it. A role the table does not name
for a route is refused; a route missing from the table is refused for everyone, so a route added later
stays shut in class mode until someone decides here who may use it (tests/web/test_class_api.py checks
that every route of the application is in the table).

Without --class nothing here runs: the owner may do everything, as before.
"""

from starlette.responses import RedirectResponse
from starlette.routing import Route

from service import classes
from engine import NnreplayError
from store.errors import AmbiguousSession, SessionNotFound
from web import class_api
from web.answers import Refused, crash, refusal
from web.limits import too_many
from web.roles import CLAIMANT, resolve

REFUSED = {"visitor": "join the class first, at /join (this server runs a class)",
           "student": "only the teacher may see this",
           "teacher": "the teacher does not do this in a class"}


async def allow(request, you, endpoint):
    return await endpoint(request)


async def to_join(request, you, endpoint):
    return RedirectResponse("/join", status_code=303)


def instead(handler):
    """Answer with `handler` in place of the route's own endpoint."""

    async def answer(request, you, endpoint):
        return await handler(request)

    return answer


async def _claim(request, you, writing: bool) -> None:
    """The session in the path must be this student's (and, to write, the class must not be paused); its
    reference is then replaced by its id, so the endpoint acts on exactly the session checked."""
    request.scope["path_params"]["ref"] = await request.app.state.db.run(
        classes.claim, request.path_params["ref"], you.token, writing)


async def own(request, you, endpoint):
    await _claim(request, you, writing=False)
    return await endpoint(request)


async def own_write(request, you, endpoint):
    await _claim(request, you, writing=True)
    return await endpoint(request)


async def own_press(request, you, endpoint):
    wait = request.app.state.classroom.presses.take(you.token)
    if wait is not None:
        return too_many(f"more than {request.app.state.classroom.presses.rate:g} presses a second; slow down", "press",
                        wait)
    if getattr(endpoint, "claims", False):
        # the press's own job claims the session (service.classes.claim) in the same trip to a worker
        # thread as the press: a class's presses are most of its server's work, and a trip costs a millisecond
        request.scope[CLAIMANT] = you.token
        return await endpoint(request)
    return await own_write(request, you, endpoint)


async def not_a_students(request, you, endpoint):
    """The teacher watches students' sessions and presses none of them."""
    ref = request.path_params["ref"]

    def check(log):
        try:
            info = log.resolve(ref)
        except (SessionNotFound, AmbiguousSession):
            return  # the endpoint says so, as it would to the owner
        member = classes.member(log, info.id)
        if member is not None and member.role == "student":
            raise Refused(403, "this is a student's session: the teacher watches it and presses nothing on it",
                          "ref")

    await request.app.state.db.run(check)
    return await endpoint(request)


ANYONE = {"teacher": allow, "student": allow, "visitor": allow}
PAGE = {"teacher": allow, "student": allow, "visitor": to_join}
TEACHER = {"teacher": allow}
READ = {"teacher": allow, "student": own}
TABLE = {
    ("GET", "/"): PAGE, ("GET", "/sessions/{ref:path}"): PAGE, ("GET", "/compare"): PAGE,
    ("GET", "/static/{name}"): ANYONE,
    ("GET", "/join"): ANYONE, ("POST", "/api/join"): ANYONE, ("GET", "/teacher/{secret:path}"): ANYONE,
    ("GET", "/api/server"): ANYONE,
    ("GET", "/class"): TEACHER, ("GET", "/api/class"): TEACHER, ("GET", "/api/class/boards"): TEACHER,
    ("POST", "/api/class/pause"): TEACHER, ("GET", "/api/class/export"): TEACHER,
    ("GET", "/api/class/audit"): TEACHER,
    ("GET", "/api/live"): {"teacher": instead(class_api.live), "student": instead(class_api.live)},
    ("GET", "/api/sessions"): {"teacher": allow, "student": instead(class_api.own_sessions)},
    ("POST", "/api/sessions"): {"teacher": allow, "student": instead(class_api.lesson_session)},
    ("GET", "/api/sessions/{ref}"): READ, ("GET", "/api/sessions/{ref}/events"): READ,
    ("GET", "/api/sessions/{ref}/metrics"): READ, ("GET", "/api/sessions/{ref}/export"): READ,
    ("GET", "/api/sessions/{ref}/audit"): READ, ("GET", "/api/sessions/{ref}/replay.gif"): READ,
    ("POST", "/api/sessions/{ref}/presses"): {"teacher": not_a_students, "student": own_press},
    ("POST", "/api/sessions/{ref}/fork"): {"teacher": not_a_students, "student": own_write},
    ("POST", "/api/sessions/{ref}/repress"): {"teacher": not_a_students, "student": own_write},
}


def _checked(route: Route):
    endpoint = route.endpoint

    async def checked(request):
        method = "GET" if request.method == "HEAD" else request.method
        try:
            rule = TABLE.get((method, route.path))
            if rule is None:
                raise Refused(403, "this address is not open while a class runs", None)
            you = await resolve(request)
            action = rule.get(you.role)
            if action is None:
                raise Refused(403, REFUSED.get(you.role, REFUSED["visitor"]), "cookie")
            return await action(request, you, endpoint)
        except NnreplayError as exc:
            return refusal(exc, request.app.state.db.path)
        except Exception as exc:
            return crash(exc)

    return checked


def enforced(routes: list[Route]) -> list[Route]:
    """`routes` with every endpoint behind the table."""
    return [Route(route.path, _checked(route), methods=route.methods, name=route.name) for route in routes]
