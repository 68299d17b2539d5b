"""A plan that imports on the controller and on the master but not in a worker process, as a
plan whose dependency is installed on the controller only: systemd must give up on the
workers (their start limit) and the run must name them, not restart them forever."""

import sys

from locust import HttpUser, constant, task

if "--worker" in sys.argv:
    raise ImportError("cannot import name 'only_on_the_controller' (the hosts lack it)")


class Visitor(HttpUser):
    wait_time = constant(1)

    @task
    def index(self):
        self.client.get("/")
