"""Molecule test plan: a small, bounded load on the sandbox's nginx target.

It opens a data file relative to its own folder (the workers' working
directory is the plan folder), as real plans do.
"""

import csv

from locust import HttpUser, between, task

with open("paths.csv", newline="") as handle:
    PATHS = [row["path"] for row in csv.DictReader(handle)]


class Visitor(HttpUser):
    wait_time = between(0.5, 1.0)

    @task
    def visit(self) -> None:
        for path in PATHS:
            self.client.get(path)
