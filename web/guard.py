"""The server's front door: Host and Origin checks, and the security headers of every response.

A page on another site can make a browser send requests here. Two checks stop it from using them:
- DNS rebinding: a hostile name that resolves to 127.0.0.1 arrives with its own name in `Host`; only the
  names this server was reached by on purpose are accepted.
- Cross-site presses: a state-changing request whose `Origin` is another site is refused (a form or a
  script elsewhere must not press buttons into your log). Scripts without an Origin (curl) are welcome.
- Cross-site work: a GET about one session (a fold, metrics, a GIF, an export) is checked the same way,
  so a page elsewhere cannot keep this server busy (`<img src=…replay.gif>` sends Sec-Fetch-Site).
"""

import json

CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
       "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
HEADERS = [(b"content-security-policy", CSP.encode()), (b"x-content-type-options", b"nosniff"),
           (b"referrer-policy", b"no-referrer"), (b"x-frame-options", b"DENY"),
           (b"cross-origin-resource-policy", b"same-origin")]
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
COSTLY = "/api/sessions/"  # every GET about one session: a state at ?at=, events, metrics, export, replay.gif
LOOPBACK = ("127.0.0.1", "localhost", "[::1]")
WILDCARDS = ("0.0.0.0", "::", "")


def allowed_hosts(host: str, port: int):
    """The `Host` values to accept: a set of them, or for a wildcard bind an `AnyAddress`."""
    if host in WILDCARDS:
        import socket

        return AnyAddress({"localhost", socket.gethostname().lower(), socket.getfqdn().lower()}, port)
    names = {host if ":" not in host else f"[{host}]", *LOOPBACK}
    return {f"{name}:{port}" for name in names} | (names if port == 80 else set())


class AnyAddress:
    """The Host values of a server bound to every address: any IP address (a browser on the network
    types one) and this machine's own names, with the port. Not any name: a hostile site whose name
    resolves to this machine (DNS rebinding) would pass an Origin check too, since its pages' Origin is
    that same name, and could press from any browser that visits it, not only from the network."""

    def __init__(self, names: set[str], port: int):
        self.names, self.port = names, port

    def __contains__(self, host: str) -> bool:
        import ipaddress

        name, port = _split(host)
        if port != self.port:
            return False
        if name in self.names:
            return True
        try:
            ipaddress.ip_address(name)
            return True
        except ValueError:
            return False


def _split(host: str) -> tuple[str, int | None]:
    """(name, port) of a Host header, the port 80 when none is written, None when it is not a number."""
    if host.startswith("["):  # [::1]:8765
        name, _, rest = host[1:].partition("]")
    else:
        name, colon, port = host.partition(":")
        rest = colon + port
    if rest == "":
        return name, 80
    digits = rest[1:]
    return name, int(digits) if rest[0] == ":" and digits.isascii() and digits.isdigit() else None


class Guard:
    """Pure ASGI middleware (no buffering, so live streams flow through it)."""

    def __init__(self, app, hosts):
        self.app, self.hosts = app, hosts

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = dict(scope["headers"])
        host = headers.get(b"host", b"").decode("latin-1").lower()
        if host not in self.hosts:
            return await _refuse(send, 403, f"this server does not answer to the host name {host[:100]!r}", "Host")
        # a state changes on a POST; a session's GETs (a fold, metrics, a GIF, an export) cost seconds of
        # work, which a page elsewhere must not be able to queue either: both are same-site only
        if scope["method"] not in SAFE_METHODS or scope["path"].startswith(COSTLY):
            origin = headers.get(b"origin")
            refusal = ("a page on another site cannot change this log" if scope["method"] not in SAFE_METHODS else
                       "a page on another site cannot ask this server for that work")
            if origin is not None and origin.decode("latin-1").lower() != f"http://{host}":
                return await _refuse(send, 403, refusal, "Origin")
            if headers.get(b"sec-fetch-site", b"same-origin") not in (b"same-origin", b"none"):
                return await _refuse(send, 403, refusal, "Origin")

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                message["headers"] = list(message.get("headers", [])) + HEADERS
            await send(message)

        await self.app(scope, receive, send_with_headers)


async def _refuse(send, status: int, message: str, field: str) -> None:
    body = json.dumps({"error": message, "field": field}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            *HEADERS]})
    await send({"type": "http.response.body", "body": body})
