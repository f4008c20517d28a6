"""JSON answers: the one place where nnreplay's errors become status codes, and request bodies are vetted."""

import json
import math
import os
import re
import sys

from starlette.responses import JSONResponse

from engine import InvalidCommand, NnreplayError
from service.budget import OverBudget
from service.classes import ClassFull, ClassNotFound, ClassPaused, NotYours
from store.errors import (AmbiguousSession, Busy, Conflict, Diverged, NameTaken, NewerSchema, NotADatabase,
                          OtherArithmetic, ReadOnly, SessionExists, SessionNotFound, UnsoundLog)

MAX_BODY = 16 * 1024
# most specific first; anything else nnreplay refuses on purpose is a 400
STATUS = ((NotYours, 403), (ClassNotFound, 404), (ClassFull, 409), (ClassPaused, 423), (SessionNotFound, 404),
          (AmbiguousSession, 400), (NameTaken, 409), (SessionExists, 409), (Conflict, 409), (UnsoundLog, 409),
          (Busy, 503), (ReadOnly, 503), (NotADatabase, 503), (NewerSchema, 503), (Diverged, 422), (OverBudget, 413))


class Refused(NnreplayError):
    """A request refused by the web front end itself, with the status code to answer."""

    def __init__(self, status: int, message: str, field: str | None = None):
        super().__init__(message, field=field)
        self.status = status


def error(status: int, message: str, field: str | None = None, **more) -> JSONResponse:
    """One JSON line: {"error": message, "field": field, ...more}. A long run of digits from the request (a
    count of 4,300 digits) is not echoed back whole."""
    message = re.sub(r"[0-9]{31,}", lambda m: f"{m.group()[:12]}…({len(m.group()):,} digits)", message)
    return JSONResponse({"error": message, "field": field, **more}, status_code=status)


def refusal(exc: NnreplayError, path: str | None = None) -> JSONResponse:
    """The error's answer; the database's `path`, where the message names it, shortened to its file name
    (a client learns no more of the server's disk than /api/server tells)."""
    if isinstance(exc, Refused):
        return error(exc.status, str(exc), exc.field)
    status = next((code for kind, code in STATUS if isinstance(exc, kind)), 400)
    field = exc.field
    if isinstance(exc, (SessionNotFound, AmbiguousSession)):
        field = field or "ref"
    elif isinstance(exc, InvalidCommand) and field is None and status == 400:
        status = 409  # a press the session's learner does not take: it conflicts with the session
    if isinstance(exc, OtherArithmetic):  # not a damaged log: the page says so and offers repress
        return error(status, private(str(exc), path), field, verdict="other arithmetic", seq=exc.seq)
    return error(status, private(str(exc), path), field)


def private(text: str, path: str | None) -> str:
    """`text` with the database's path (as given, or absolute) replaced by its file name."""
    if path:
        for spelling in sorted({os.path.abspath(path), path}, key=len, reverse=True):
            text = text.replace(spelling, os.path.basename(path))
    return text


def crash(exc: BaseException) -> JSONResponse:
    """A bug: one line on the server's stderr, and never a traceback in the response."""
    if os.environ.get("NNREPLAY_DEBUG"):
        import traceback

        traceback.print_exception(exc)
    else:
        print(f"nnreplay serve: unexpected {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
    return error(500, "internal error: the server could not answer this request (its log says why)")


def _no_constants(text: str):
    raise ValueError(f"{text} is not a JSON number")


def _no_repeats(pairs: list) -> dict:
    # {"count": 1, "count": 900} would otherwise mean whatever the last one says, unseen by whoever wrote it
    body = dict(pairs)
    if len(body) < len(pairs):
        seen = set()
        repeated = next(key for key, _ in pairs if key in seen or seen.add(key))
        raise ValueError(f"the key {repeated[:40]!r} appears more than once")
    return body


async def read_body(request) -> dict:
    """The request's JSON object: at most MAX_BODY bytes (413), JSON (415 otherwise), an object (400)."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "application/json":
        raise Refused(415, "send the body as JSON with Content-Type: application/json", "body")
    declared = request.headers.get("content-length", "0")
    if not declared.isdigit() or int(declared) > MAX_BODY:
        raise Refused(413, f"a body can be at most {MAX_BODY:,} bytes", "body")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            raise Refused(413, f"a body can be at most {MAX_BODY:,} bytes", "body")
        chunks.append(chunk)
    try:
        body = json.loads(b"".join(chunks) or b"{}", parse_constant=_no_constants, object_pairs_hook=_no_repeats)
    except (ValueError, UnicodeDecodeError) as exc:
        raise Refused(400, f"the body is not valid JSON: {exc}", "body") from None
    except RecursionError:  # 16 KiB of brackets nest deeper than Python's parser goes
        raise Refused(400, "the body nests too deeply to be a request", "body") from None
    if not isinstance(body, dict):
        raise Refused(400, "the body must be a JSON object", "body")
    return body


def _is(value, kind: str) -> bool:
    if kind == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if kind == "text":
        return isinstance(value, str)
    if kind == "bool":
        return isinstance(value, bool)
    if kind == "list":  # a list of plain values, as a setting with several parts would take
        return isinstance(value, list) and len(value) <= 64 and all(_is(v, "text") or _is(v, "number") for v in value)
    return value is None  # "null"


WORDS = {"int": "a whole number", "number": "a number", "text": "text", "bool": "true or false",
         "list": "a list of numbers or texts", "null": "null"}


def vet(body: dict, spec: dict[str, tuple[str, ...]], required: tuple[str, ...] = ()) -> dict:
    """`body` once every key is known and of one of its allowed kinds; a refusal names the field."""
    for key in required:
        if key not in body:
            raise Refused(400, f"{key} is required", key)
    for key, value in body.items():
        if key not in spec:
            raise Refused(400, f"{key} is not a field here; the fields are: {', '.join(spec)}", key)
        if not any(_is(value, kind) for kind in spec[key]):
            raise Refused(400, f"{key} must be {' or '.join(WORDS[k] for k in spec[key])}, got {value!r}"[:300], key)
    return body


def refuse_repeats(request) -> None:
    """`?at=1&at=2` means whatever the last one says, unseen by whoever wrote the first: refused, naming it."""
    seen = set()
    for key, _ in request.query_params.multi_items():
        if key in seen:
            raise Refused(400, f"{key[:40]} is given more than once; give it once", key[:40])
        seen.add(key)


def query_int(request, name: str, default: int | None = None, least: int | None = None,
              most: int | None = None) -> int | None:
    """An integer query parameter, checked; absent gives `default`."""
    text = request.query_params.get(name)
    if text is None or text == "":
        return default
    # ASCII digits only: int() would also take "+3", " 3", "1_0" and other scripts' digits
    if not re.fullmatch(r"-?[0-9]{1,30}", text):
        raise Refused(400, f"{name} must be a whole number, got {text[:40]!r}", name)
    value = int(text)
    if (least is not None and value < least) or (most is not None and value > most):
        bounds = f"at least {least}" if most is None else f"at most {most}" if least is None else \
            f"from {least} to {most}"
        raise Refused(400, f"{name} must be {bounds}, got {value}", name)
    return value


def query_flag(request, name: str, default: bool) -> bool:
    """A true/false query parameter; any other word is refused rather than read as the default."""
    text = request.query_params.get(name)
    if text is None or text == "":
        return default
    if text not in ("true", "false"):
        raise Refused(400, f"{name} must be true or false, got {text[:40]!r}", name)
    return text == "true"
