"""The smallest WSGI application gunicorn can serve: the floor under any Django answer
(``bench/ceiling.py``). It reads the request body and answers a POST with 201 and a small JSON body."""

from __future__ import annotations

BODY = b'{"id": 1, "number": "20261207-00001"}'


def application(environ, start_response):
    length = int(environ.get("CONTENT_LENGTH") or 0)
    if length:
        environ["wsgi.input"].read(length)
    status = "201 Created" if environ["REQUEST_METHOD"] == "POST" else "200 OK"
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(BODY)))])
    return [BODY]
