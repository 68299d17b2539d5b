"""Same-origin only, for the Locust web UI in the fleet's interactive mode (loaded next to
the plan in every UI run, login or not).

Locust's UI allows cross-origin requests from every site (flask-cors), and behind the
fleet's SSH forward it needs no login: any web page the operator opens could start load
through 127.0.0.1:<forward port>. This plugin refuses every request whose Origin header
names another site (403) and takes the cross-origin grant off every answer, so a foreign
page can neither send orders nor read the UI. Requests without an Origin header (curl,
the UI's own page loads) are not browsers acting for another site and pass. It defines
no User class, so the workers never need it.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Response, request
from locust import events

CORS_HEADERS = (
    "Access-Control-Allow-Origin",
    "Access-Control-Allow-Credentials",
    "Access-Control-Allow-Methods",
    "Access-Control-Allow-Headers",
    "Access-Control-Expose-Headers",
)


def foreign_origin(origin: str | None, host: str) -> bool:
    """Whether an Origin header names a site other than the one asked (Host)."""
    if origin is None:
        return False
    if origin == "null":  # sandboxed frames, file:// pages
        return True
    return (urlsplit(origin).netloc or "").lower() != (host or "").lower()


def install(app) -> None:
    @app.before_request
    def _refuse_foreign_origin():
        if foreign_origin(request.headers.get("Origin"), request.host):
            return Response("cross-origin request refused\n", status=403, mimetype="text/plain")
        return None

    def _no_cross_origin_grant(response):
        for name in CORS_HEADERS:
            response.headers.pop(name, None)
        return response

    # First in the list: Flask runs after-request functions last-registered first, so this
    # one runs after flask-cors has added its grant.
    app.after_request_funcs.setdefault(None, []).insert(0, _no_cross_origin_grant)


@events.init.add_listener
def _same_origin_only(environment, **_kwargs) -> None:
    if environment.web_ui is not None:
        install(environment.web_ui.app)
