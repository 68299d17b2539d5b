"""The classic two-page website plan: a visitor reads the home page, now and then "about".

The target comes from the inventory (`locust_target_url`, passed as Locust's --host).
"""

from locust import HttpUser, between, task


class WebsiteUser(HttpUser):
    wait_time = between(1, 2)

    @task(3)
    def index(self):
        self.client.get("/")

    @task(1)
    def about(self):
        self.client.get("/about")
