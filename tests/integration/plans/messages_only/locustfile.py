"""A plan that sends no request: each user greets the master with a custom message."""

from locust import User, constant, events, task
from locust.runners import MasterRunner


@events.init.add_listener
def on_init(environment, **_):
    if isinstance(environment.runner, MasterRunner):
        environment.runner.register_message(
            "hello", lambda msg, **kw: print(f"hello from {msg.data['worker']}", flush=True)
        )


class Greeter(User):
    wait_time = constant(1)

    @task
    def greet(self):
        runner = self.environment.runner
        runner.send_message("hello", {"worker": runner.client_id})
