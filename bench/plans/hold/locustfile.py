"""Bench plan: the concurrency case study. Each user opens a keep-alive connection,
reads the home page, then waits 60-120 s: users (and open connections), not
requests per second, are what the hosts must hold."""

from locust import FastHttpUser, between, task


class HoldingUser(FastHttpUser):
    wait_time = between(60, 120)

    @task
    def index(self):
        self.client.get("/")
