"""`nnreplay serve`: the HTTP API and the page, on Starlette and uvicorn.

Imported only by the serve command (and its tests), so no other command pays for the server library.
Every handler translates: HTTP in, one `service` call in a worker thread (or, when it is costly, in a
worker process: web/jobs.py, web/processes.py), JSON out; errors map to status codes in one place
(web/answers.py).
"""
