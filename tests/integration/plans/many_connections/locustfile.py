"""A plan whose users each keep several connections open to the target (five sessions with
keep-alive, as a browser opens several): a host runs out of local ports with fewer users than
ports, which no sizing by user count can foresee. The limits verdict must name it."""

import requests
from locust import HttpUser, constant, task

SESSIONS = 5


class ManyConnectionsUser(HttpUser):
    wait_time = constant(0.5)

    def on_start(self):
        self.sessions = [requests.Session() for _ in range(SESSIONS)]

    @task
    def every_session_once(self):
        for session in self.sessions:
            with self.client.request("GET", "/", catch_response=True) as answer:
                answer.success()
            try:
                session.get(self.host + "/about", timeout=5)
            except requests.RequestException as err:
                self.environment.events.request.fire(
                    request_type="GET",
                    name="/about (own session)",
                    response_time=0,
                    response_length=0,
                    exception=err,
                    context={},
                )

    def on_stop(self):
        for session in self.sessions:
            session.close()
