import hashlib
import random

from locust import HttpUser, constant, task


class BusyUser(HttpUser):
    """Burns CPU between requests so the generator, not the target, saturates."""

    wait_time = constant(0)

    @task(10)
    def burn_then_get(self):
        data = b"x" * 1024
        for _ in range(2000):
            data = hashlib.sha256(data).digest() * 32
        self.client.get("/")

    @task(1)
    def broken(self):
        if random.random() < 0.5:
            raise ValueError("plan bug: no token in response")
        self.client.get("/about/", name="/about")
