"""A plan that makes the load generators, not the target, the bottleneck: every user
hashes in a loop between requests and never waits. The saturation verdict must flag it."""

import hashlib

from locust import HttpUser, constant, task


class CpuBoundUser(HttpUser):
    wait_time = constant(0)

    @task
    def burn_then_get(self):
        data = b"x" * 1024
        for _ in range(20000):  # ~25 ms of CPU per request: the request's own wait is noise
            data = hashlib.sha256(data).digest() * 32
        self.client.get("/")
