"""A plan that uses what real plans use, each with a result the test can check.

- user classes with weights and a fixed_count: Browser (weight 3), Buyer (weight 1) and
  one Admin; on_start and on_stop make requests of their own ("login", "admin login",
  "admin logout");
- tags: Buyer's "slow" task is left out by --exclude-tag slow;
- custom arguments with Locust's extended options (choices, is_secret, is_required); the
  value of --catalogue names the "catalogue:<value>" requests, so it must reach the workers;
- custom messages: at the start the master hands each worker its share of 100 product ids
  by worker_index; each worker says what it took, and the master prints whether the
  shares were disjoint and complete;
- a request event hook on the workers counts requests and reports the count to the
  master with report_to_master; the master prints the sum at the end.
The target comes from the inventory (locust_target_url).
"""

from locust import FastHttpUser, constant, events, tag, task
from locust.runners import MasterRunner, WorkerRunner

PRODUCTS = list(range(100))
_mine: list[int] = []  # this worker's product ids
_hooked = {"requests": 0}  # requests this worker's hook saw, not yet reported
_taken: dict[int, list[int]] = {}  # on the master: worker index -> ids it took
_reported = {"requests": 0}


@events.init_command_line_parser.add_listener
def _arguments(parser):
    parser.add_argument(
        "--catalogue", choices=["small", "large"], default="small", include_in_web_ui=True
    )
    parser.add_argument("--api-key", default="", is_secret=True, include_in_web_ui=True)
    parser.add_argument("--shop-name", default="demo", is_required=True, include_in_web_ui=True)


@events.init.add_listener
def _messages(environment, **_):
    runner = environment.runner
    if isinstance(runner, MasterRunner):

        def took(msg, **_kw):
            _taken[msg.data[0]] = msg.data[1]

        runner.register_message("took", took)
    if isinstance(runner, WorkerRunner):

        def share(msg, **_kw):
            _mine[:] = msg.data
            runner.send_message("took", [runner.worker_index, list(msg.data)])

        runner.register_message("share", share)


@events.test_start.add_listener
def _hand_out_shares(environment, **_):
    runner = environment.runner
    if not isinstance(runner, MasterRunner):
        return
    count = len(runner.clients)
    for client_id in list(runner.clients):
        index = runner.get_worker_index(client_id)
        runner.send_message("share", PRODUCTS[index::count], client_id)


@events.request.add_listener
def _hook(**_):
    _hooked["requests"] += 1


@events.report_to_master.add_listener
def _report(client_id, data):
    data["hooked_requests"] = _hooked["requests"]
    _hooked["requests"] = 0


@events.worker_report.add_listener
def _receive(client_id, data):
    _reported["requests"] += int(data.get("hooked_requests", 0))


@events.quitting.add_listener
def _say(environment, **_):
    if not isinstance(environment.runner, MasterRunner):
        return
    ids = sorted(i for taken in _taken.values() for i in taken)
    print(
        f"partitions: {len(_taken)} workers took {len(ids)} ids, "
        f"disjoint and complete: {ids == PRODUCTS}",
        flush=True,
    )
    print(f"request hook counted {_reported['requests']} requests", flush=True)


class Browser(FastHttpUser):
    weight = 3
    wait_time = constant(0.5)

    def on_start(self):
        self.client.get("/", name="login")

    @tag("browse")
    @task
    def browse(self):
        catalogue = self.environment.parsed_options.catalogue
        self.client.get("/", name=f"catalogue:{catalogue}")

    @tag("browse")
    @task
    def product(self):
        if _mine:
            self.client.get(f"/?product={_mine[0]}", name="product")


class Buyer(FastHttpUser):
    weight = 1
    wait_time = constant(0.5)

    @tag("buy")
    @task
    def buy(self):
        self.client.get("/about", name="buy")

    @tag("slow")
    @task
    def slow(self):
        self.client.get("/", name="slow")


class Admin(FastHttpUser):
    fixed_count = 1
    wait_time = constant(1)

    def on_start(self):
        self.client.get("/", name="admin login")

    @task
    def admin(self):
        self.client.get("/", name="admin")

    def on_stop(self):
        self.client.get("/", name="admin logout")
