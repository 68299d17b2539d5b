"""Bench plan: the website plan on FastHttpUser with no wait, so the worker's CPU is the limit."""

from locust import FastHttpUser, constant, task


class FastWebsiteUserNoWait(FastHttpUser):
    wait_time = constant(0)

    @task(3)
    def index(self):
        self.client.get("/")

    @task(1)
    def about(self):
        self.client.get("/about")
