"""A plan that needs a package beyond Locust's own: `inflection`, from its requirements.txt.

Its request names come from the package (as a plan's helpers would), so the run's
statistics show that every worker imported it: "Home Page" and "About Us".
"""

import inflection
from locust import HttpUser, between, task


class Visitor(HttpUser):
    wait_time = between(0.5, 1)

    @task(3)
    def home(self):
        self.client.get("/", name=inflection.titleize("home_page"))

    @task(1)
    def about(self):
        self.client.get("/about", name=inflection.titleize("about_us"))
