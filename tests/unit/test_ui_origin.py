"""The UI's same-origin plugin (roles/locust_ui/files/locust_fleet_ui_origin.py) on a real
Flask app with flask-cors, as Locust's web UI builds it."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from flask import Flask
from flask_cors import CORS

REPO = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location(
    "locust_fleet_ui_origin", REPO / "roles/locust_ui/files/locust_fleet_ui_origin.py"
)
origin = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(origin)


def ui_app() -> Flask:
    app = Flask(__name__)
    CORS(app)  # what locust.web.WebUI does
    started = []

    @app.route("/swarm", methods=["POST"])
    def swarm():
        started.append(True)
        return "started"

    @app.route("/stats/requests")
    def stats():
        return "{}"

    app.started = started
    origin.install(app)
    return app


def test_a_foreign_page_cannot_start_load():
    app = ui_app()
    client = app.test_client()
    answer = client.post("/swarm", headers={"Origin": "http://evil.example"})
    assert answer.status_code == 403 and app.started == []
    answer = client.post("/swarm", headers={"Origin": "null"})
    assert answer.status_code == 403 and app.started == []


def test_the_ui_itself_and_clients_without_an_origin_pass_with_no_cross_origin_grant():
    app = ui_app()
    client = app.test_client()
    same = client.post(
        "/swarm", headers={"Origin": "http://127.0.0.1:40123", "Host": "127.0.0.1:40123"}
    )
    assert same.status_code == 200 and app.started == [True]
    plain = client.get("/stats/requests")
    assert plain.status_code == 200
    assert "Access-Control-Allow-Origin" not in plain.headers
    # without the plugin, flask-cors grants every origin: the test would see the header
    bare = Flask(__name__)
    CORS(bare)
    bare.add_url_rule("/x", "x", lambda: "x")
    granted = bare.test_client().get("/x", headers={"Origin": "http://evil.example"})
    assert granted.headers.get("Access-Control-Allow-Origin") is not None
