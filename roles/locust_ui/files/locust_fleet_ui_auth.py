"""Login for the Locust web UI in the fleet's interactive mode (loaded next to the plan).

Locust's --web-login needs a login handler in a locustfile; this one checks the
username and password against LOCUST_FLEET_UI_USERNAME / LOCUST_FLEET_UI_PASSWORD,
which the unit reads from secrets.env. With either unset every login is refused.
It defines no User class, so the workers never need it.
"""

from __future__ import annotations

import hmac
import os
import secrets

from flask import Blueprint, redirect, request, session, url_for
from flask_login import UserMixin, login_user
from locust import events

USERNAME_VAR = "LOCUST_FLEET_UI_USERNAME"
PASSWORD_VAR = "LOCUST_FLEET_UI_PASSWORD"


class _FleetUser(UserMixin):
    def __init__(self, username: str) -> None:
        self.username = username

    def get_id(self) -> str:
        return self.username


def _valid(username: str, password: str) -> bool:
    expected_user = os.environ.get(USERNAME_VAR, "")
    expected_password = os.environ.get(PASSWORD_VAR, "")
    if not expected_user or not expected_password:
        return False
    same_user = hmac.compare_digest(username.encode(), expected_user.encode())
    same_password = hmac.compare_digest(password.encode(), expected_password.encode())
    return same_user and same_password


@events.init.add_listener
def _install_login(environment, **_kwargs) -> None:
    web_ui = environment.web_ui
    if web_ui is None or not web_ui.web_login:
        return
    # Flask signs the login session with this key: a fresh one per master start.
    web_ui.app.secret_key = secrets.token_hex(32)
    blueprint = Blueprint("locust_fleet_auth", __name__)

    def load_user(user_id: str):
        return _FleetUser(user_id) if session.get("fleet_user") == user_id else None

    web_ui.login_manager.user_loader(load_user)
    web_ui.auth_args = {"username_password_callback": "/fleet_login"}

    @blueprint.route("/fleet_login", methods=["POST"])
    def fleet_login():
        username = request.form.get("username", "")
        password = request.form.get("password", "")
        if _valid(username, password):
            session["fleet_user"] = username
            login_user(_FleetUser(username))
            return redirect(url_for("locust.index"))
        session["auth_error"] = "Invalid username or password"
        return redirect(url_for("locust.login"))

    web_ui.app.register_blueprint(blueprint)
