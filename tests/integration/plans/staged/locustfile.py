"""A plan driven by a load shape: three stages of 2, 6 and 4 users, each --stage-seconds long.

Locust ignores -u, -r and -t when a shape drives the run; the fleet takes -t as the
shape's upper bound (a run longer than the shape ends with the shape, a shorter one is
cut at -t). The target comes from the inventory (locust_target_url).
"""

from locust import FastHttpUser, LoadTestShape, constant, events, task

STAGES = (2, 6, 4)  # users in each stage


@events.init_command_line_parser.add_listener
def _arguments(parser):
    parser.add_argument("--stage-seconds", type=float, default=8.0, help="length of each stage")


class Visitor(FastHttpUser):
    wait_time = constant(0.5)

    @task
    def index(self):
        self.client.get("/")


class ThreeStages(LoadTestShape):
    def tick(self):
        seconds = float(self.runner.environment.parsed_options.stage_seconds)
        stage = int(self.get_run_time() // seconds)
        if stage >= len(STAGES):
            return None
        return STAGES[stage], 10
