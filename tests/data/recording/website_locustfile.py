from locust import HttpUser, between, task


class WebsiteUser(HttpUser):
    wait_time = between(0.05, 0.2)

    @task(5)
    def home(self):
        self.client.get("/")

    @task(3)
    def about(self):
        self.client.get("/about/", name="/about")

    @task(1)
    def missing(self):
        self.client.get("/missing")
