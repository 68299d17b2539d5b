"""The website plan on FastHttpUser (geventhttpclient): several times the requests per CPU."""

from locust import FastHttpUser, between, task


class FastWebsiteUser(FastHttpUser):
    wait_time = between(1, 2)

    @task(3)
    def index(self):
        self.client.get("/")

    @task(1)
    def about(self):
        self.client.get("/about")
