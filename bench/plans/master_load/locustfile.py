"""Bench plan: the master under many workers. For the first 10 s no user runs (the
master only takes heartbeats and empty stats reports from every worker process),
then 600 users of the website plan run for 20 s, then the shape ends the test."""

from locust import FastHttpUser, LoadTestShape, between, task

IDLE_S = 10
LOAD_S = 20
USERS = 600


class FastWebsiteUser(FastHttpUser):
    wait_time = between(1, 2)

    @task(3)
    def index(self):
        self.client.get("/")

    @task(1)
    def about(self):
        self.client.get("/about")


class IdleThenLoad(LoadTestShape):
    def tick(self):
        elapsed = self.get_run_time()
        if elapsed < IDLE_S:
            return 0, 100
        if elapsed < IDLE_S + LOAD_S:
            return USERS, 200
        return None
