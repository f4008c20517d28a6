"""The server's front door: Host and Origin checks, and the security headers of every response.

A page on another site can make a browser send requests here. Two checks stop it from using them:
- DNS rebinding: a hostile name that resolves to 127.0.0.1 arrives with its own name in `Host`; only the
  names this server was reached by on purpose are accepted.
- Cross-site presses: a state-changing request whose `Origin` is another site is refused (a form or a
  script elsewhere must not press buttons into your log). Scripts without an Origin (curl) are welcome.
"""

import json

CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
       "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
HEADERS = [(b"content-security-policy", CSP.encode()), (b"x-content-type-options", b"nosniff"),
           (b"referrer-policy", b"no-referrer"), (b"x-frame-options", b"DENY"),
           (b"cross-origin-resource-policy", b"same-origin")]
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
LOOPBACK = ("127.0.0.1", "localhost", "[::1]")
WILDCARDS = ("0.0.0.0", "::", "")


def allowed_hosts(host: str, port: int) -> set[str] | None:
    """The `Host` values to accept, or None for any (a wildcard bind answers to every name anyway)."""
    if host in WILDCARDS:
        return None
    names = {host if ":" not in host else f"[{host}]", *LOOPBACK}
    return {f"{name}:{port}" for name in names} | (names if port == 80 else set())


class Guard:
    """Pure ASGI middleware (no buffering, so live streams flow through it)."""

    def __init__(self, app, hosts: set[str] | None):
        self.app, self.hosts = app, hosts

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = dict(scope["headers"])
        host = headers.get(b"host", b"").decode("latin-1").lower()
        if self.hosts is not None and host not in self.hosts:
            return await _refuse(send, 403, f"this server does not answer to the host name {host[:100]!r}", "Host")
        if scope["method"] not in SAFE_METHODS:
            origin = headers.get(b"origin")
            if origin is not None and origin.decode("latin-1").lower() != f"http://{host}":
                return await _refuse(send, 403, "a page on another site cannot change this log", "Origin")
            if headers.get(b"sec-fetch-site", b"same-origin") not in (b"same-origin", b"none"):
                return await _refuse(send, 403, "a page on another site cannot change this log", "Origin")

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
