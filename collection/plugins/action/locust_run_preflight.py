"""The run's controller preflight in one task: arguments, inventory shape, secrets, plan,
run id and results folder, checked before anything on the fleet is touched.

It returns the run as the fact ``locust_run_info``: its id and mode, seconds, the
user classes, the plan's files and manifest hash, its folders (results_dir on the
controller, run_dir on the hosts), sampler unit, deadline and claim hold, who started
it, and the spec kept in its state file. The fleet's plays, the state file and
run.json use it; roles/locust_common/meta/argument_specs.yml documents it.
Each refusal names the problem and the fix; nothing has changed anywhere when it fails.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase
from ansible_collections.fleet.locust.plugins.filter.locust_run import locust_duration_seconds
from ansible_collections.fleet.locust.plugins.module_utils.locust_env_file import (
    SecretError,
    check_secrets,
)
from ansible_collections.fleet.locust.plugins.module_utils.locust_plan import (
    DEFAULT_EXCLUDE,
    PlanError,
    read_plan,
)
from ansible_collections.fleet.locust.plugins.plugin_utils.locust_run_inputs import (
    check_config_values,
    check_settings,
)

ARGS = {
    "users": {"type": "raw", "required": True},
    "spawn_rate": {"type": "raw", "required": True},
    "run_time": {"type": "raw", "required": True},
    "run_time_name": {"type": "str", "default": "locust_run_time"},
    "tags": {"type": "raw", "default": []},
    "exclude_tags": {"type": "raw", "default": []},
    "extra_args": {"type": "raw", "default": {}},
    "secret_env": {"type": "dict", "default": {}, "no_log": True},
    "secret_env_from": {"type": "list", "elements": "str", "default": []},
    "plan": {"type": "str", "default": ""},
    "plan_name": {"type": "str", "default": ""},
    "plan_exclude": {"type": "list", "elements": "str", "default": DEFAULT_EXCLUDE},
    "run_id": {"type": "str", "default": ""},
    "results_dir": {"type": "path", "required": True},
    "masters": {"type": "list", "elements": "str", "default": []},
    "workers": {"type": "list", "elements": "str", "default": []},
    "target_url": {"type": "str", "default": ""},
    "checks": {"type": "list", "elements": "str", "default": []},
    "allow_saturated": {"type": "bool", "default": False},
    "allow_no_requests": {"type": "bool", "default": False},
    "mode": {"type": "str", "choices": ["headless", "ui"], "default": "headless"},
    # Where runs live on the hosts, and the waits that bound a run (the fleet's settings).
    "data_dir": {"type": "path", "default": "/var/lib/locust"},
    "expect_workers_timeout": {"type": "int", "default": 60},
    "stop_timeout": {"type": "int", "default": 10},
    "grace": {"type": "int", "default": 60},
    "claim_grace": {"type": "int", "default": 300},
    # Every numeric run setting as given (checked against its range by name), and the other
    # values the mode writes into Locust's config (variable name -> value).
    "settings": {"type": "dict", "default": {}},
    "config_values": {"type": "dict", "default": {}},
}
_WHOLE = re.compile(r"^[0-9]+$")
LONGEST_RUN_SECONDS = 30 * 86400
_NUMBER = re.compile(r"^[0-9]*[.]?[0-9]+$")


def check_numbers(args: dict) -> int:
    """The run's seconds, once users, spawn rate, run time, tags and extra args are usable."""
    users, rate = str(args["users"]), str(args["spawn_rate"])
    if not (_WHOLE.match(users) and int(users) > 0):
        raise AnsibleActionFail(
            f"locust_users must be a whole number above 0 (got {users!r}), e.g. -e locust_users=50"
        )
    if not (_NUMBER.match(rate) and float(rate) > 0):
        raise AnsibleActionFail(
            f"locust_spawn_rate must be a number above 0 (got {rate!r}), "
            "e.g. -e locust_spawn_rate=10"
        )
    seconds = locust_duration_seconds(args["run_time"])
    if seconds <= 0:
        raise AnsibleActionFail(
            f"{args['run_time_name']} {str(args['run_time'])!r} is not a duration above 0: use "
            "seconds or h/m/s, e.g. 90, 30s, 5m, 1h30m"
        )
    if seconds > LONGEST_RUN_SECONDS:
        raise AnsibleActionFail(
            f"{args['run_time_name']} {str(args['run_time'])!r} is longer than 30 days, the "
            "longest run the fleet holds its claim and samplers for; give a shorter one"
        )
    lists = all(isinstance(args[key], list) for key in ("tags", "exclude_tags"))
    if not lists or not isinstance(args["extra_args"], dict):
        raise AnsibleActionFail(
            "locust_tags and locust_exclude_tags must be lists (e.g. -e "
            '\'{"locust_tags": ["checkout"]}\'), '
            "locust_extra_args a mapping of the plan's own arguments"
        )
    return seconds


# Locust options the fleet sets itself in the master's config (headless and UI), or that
# would change what the master is (a worker, a second process, another config file).
FLEET_OPTIONS = {
    "locustfile": "the plan (--plan / locust_plan)",
    "config": "the fleet's own master config",
    "master": "the fleet",
    "worker": "the fleet",
    "master-host": "the fleet",
    "master-port": "the fleet",
    "master-bind-host": "the fleet",
    "master-bind-port": "locust_master_port",
    "processes": "locust_worker_processes",
    "headless": "the fleet",
    "autostart": "the fleet",
    "autoquit": "the fleet",
    "expect-workers": "the fleet (every worker process of the inventory)",
    "expect-workers-max-wait": "locust_run_expect_workers_timeout",
    "users": "-u / locust_users",
    "spawn-rate": "-r / locust_spawn_rate",
    "run-time": "-t / locust_run_time",
    "stop-timeout": "locust_run_stop_timeout",
    "host": "locust_target_url",
    "tags": "--tag / locust_tags",
    "exclude-tags": "--exclude-tag / locust_exclude_tags",
    "csv": "the fleet (the run's folder)",
    "csv-full-history": "the fleet",
    "html": "the fleet (the run's folder)",
    "json-file": "the fleet (the run's folder)",
    "json": "the fleet",
    "logfile": "the fleet (the run's folder)",
    "web-host": "locust_ui_listen",
    "web-port": "locust_ui_port",
    "web-login": "locust_ui_username",
    "tls-cert": "locust_ui_tls_cert",
    "tls-key": "locust_ui_tls_key",
    "fleet-shape-bound": "the fleet",
    "fleet-heartbeat-liveness": "locust_run_heartbeat_liveness",
    "fleet-shape-record": "the fleet",
}
_OPTION_NAME = re.compile(r"^[a-z0-9][a-z0-9-]*$")


def check_extra_args(extra_args: dict) -> None:
    """A plan argument is a plain option name, never one of the options the fleet sets
    itself (written after them, it would win); its value is checked with the config's."""
    for raw_name in extra_args:
        name = str(raw_name).lstrip("-").replace("_", "-")
        if not _OPTION_NAME.match(name):
            raise AnsibleActionFail(
                f"locust_extra_args: {str(raw_name)!r} is not an option name (letters, digits "
                "and dashes, e.g. --arg product-id=42)"
            )
        if name in FLEET_OPTIONS:
            raise AnsibleActionFail(
                f"locust_extra_args: {name!r} is set by the fleet itself (from "
                f"{FLEET_OPTIONS[name]}); a plan argument cannot change it. Give the fleet's "
                "own setting instead, or rename the plan's argument."
            )


def check_inventory(masters: list, workers: list) -> None:
    if len(masters) != 1 or not workers:
        raise AnsibleActionFail(
            f"The inventory needs exactly one host in group locust_master (it has {len(masters)}: "
            f"{', '.join(masters) or 'none'}) and at least one in locust_workers (it has "
            f"{len(workers)}); fix the inventory (see inventories/lab/hosts.yml)."
        )


def check_written_values(args: dict) -> None:
    """The fleet's numeric settings in range, and every value the run writes into Locust's
    config able to read back as given; all problems at once, each naming its variable."""
    values = {
        "locust_target_url": args["target_url"],
        "locust_plan": args["plan"],
        **{f"locust_extra_args[{name}]": value for name, value in args["extra_args"].items()},
        **args["config_values"],
    }
    lists = {"locust_tags": args["tags"], "locust_exclude_tags": args["exclude_tags"]}
    problems = check_settings(args["settings"]) + check_config_values(values, lists)
    if problems:
        raise AnsibleActionFail("; ".join(problems) + ". Nothing was started.")


def secret_names(secret_env: dict, secret_env_from: list) -> list[str]:
    """Names of every secret of the run; those named from the environment must be set, and
    every value must be one the hosts' environment file carries byte for byte."""
    missing = [name for name in secret_env_from if not os.environ.get(name)]
    if missing:
        one = len(missing) == 1
        raise AnsibleActionFail(
            f"{', '.join(missing)} {'is' if one else 'are'} not set in the controller's "
            f"environment; export {'it' if one else 'them'} before the run, or give the value "
            "through "
            "locust_secret_env (Ansible Vault)."
        )
    values = {**secret_env, **{name: os.environ[name] for name in secret_env_from}}
    try:
        check_secrets(values)
    except SecretError as err:
        raise AnsibleActionFail(f"{err}. Nothing was started.") from None
    return sorted(set(secret_env) | set(secret_env_from))


# Run with the controller's Locust: the plan's User classes and its LoadTestShape, if any,
# as Locust's own loader finds them (the first shape is the one Locust uses).
_INTROSPECT = """
import json, sys
if sys.argv[3]:
    sys.path.append(sys.argv[3])  # after site-packages: the controller's own Locust wins
from locust.util.load_locustfile import load_locustfile
users, shapes = load_locustfile(sys.argv[1])
shape = shapes[0] if shapes else None
found = {"user_classes": sorted(users), "shape": None if shape is None else {
    "class": type(shape).__name__,
    "use_common_options": bool(getattr(shape, "use_common_options", False))}}
with open(sys.argv[2], "w") as out:
    json.dump(found, out)
"""


_MISSING_MODULE = re.compile(r"ModuleNotFoundError: No module named '(?P<name>[^']+)'")


def plan_site(plan: dict) -> str:
    """A controller folder with the plan's requirements.txt installed ('' without one),
    so that the plan imports here as it will on the hosts; kept by the file's sha256."""
    if "requirements.txt" not in plan["rels"]:
        return ""
    digest = plan["sums"][plan["rels"].index("requirements.txt")]
    cache = os.path.join(os.path.expanduser("~"), ".cache", "locust-fleet", "plan-site")
    folder = os.path.join(cache, digest)
    if os.path.isdir(folder):
        return folder
    os.makedirs(cache, exist_ok=True)
    building = tempfile.mkdtemp(prefix=f".{digest}.", dir=cache)
    requirements = os.path.join(plan["src"], "requirements.txt")
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
         "--target", building, "-r", requirements],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if proc.returncode != 0:
        shutil.rmtree(building, ignore_errors=True)
        said = [line for line in proc.stderr.splitlines() if line.strip()]
        raise AnsibleActionFail(
            f"The plan's {requirements} cannot be installed on the controller to check the "
            f"plan ({said[-1] if said else 'pip failed'}); fix the pins (name==version, "
            "available from the package index), then run again. Nothing was started."
        )
    try:
        os.rename(building, folder)
    except OSError:  # another run built it meanwhile
        shutil.rmtree(building, ignore_errors=True)
    return folder


def plan_classes(locustfile: str, site: str = "") -> dict:
    """Import the plan with the controller's Locust (the Python running Ansible):
    {"user_classes": [...], "shape": None or {"class", "use_common_options"}}."""
    with tempfile.TemporaryDirectory(prefix="locust-fleet-plan-") as folder:
        out = os.path.join(folder, "classes.json")
        proc = subprocess.run(
            [sys.executable, "-c", _INTROSPECT, locustfile, out, site],
            cwd=os.path.dirname(locustfile),
            capture_output=True,
            text=True,
            check=False,
        )
        found = {}
        if proc.returncode == 0 and os.path.isfile(out):
            with open(out, encoding="utf-8") as handle:
                found = json.load(handle)
    if not found.get("user_classes"):
        said = [line for line in proc.stderr.splitlines() if line.strip()]
        why = said[-1] if said else "it defines no User class"
        missing = _MISSING_MODULE.search(why)
        if missing:
            package = missing["name"].split(".")[0]
            raise AnsibleActionFail(
                f"The plan {locustfile} cannot be used: {why}. Pin the package that provides "
                f"{package} in requirements.txt beside the locustfile (one name==version a line, "
                "e.g. inflection==0.5.1): the fleet installs those pins on every host; or, if "
                f"{package} is a module of the plan's own, put it in the plan folder. "
                "Nothing was started."
            )
        raise AnsibleActionFail(
            f"The plan {locustfile} cannot be used: {why}. Fix the locustfile (it must import and "
            f"define at least one User class), check it with `locust -f {locustfile} --list`, "
            "then run again."
        )
    return found


def plan_classes_cached(plan: dict, site: str = "", cache_root: str = "") -> dict:
    """plan_classes, remembered for the plan as it is: the same files (the manifest's
    sha256), the same Python, Locust and requirements folder import the same way, so an
    unchanged plan is not imported again (about a second of CPU per run)."""
    try:
        locust_version = importlib.metadata.version("locust")
    except importlib.metadata.PackageNotFoundError:
        locust_version = ""
    key = json.dumps([plan["manifest_sha256"], sys.executable, sys.version, locust_version, site])
    digest = hashlib.sha256(key.encode()).hexdigest()
    cache = cache_root or os.path.join(
        os.path.expanduser("~"), ".cache", "locust-fleet", "plan-classes"
    )
    path = os.path.join(cache, digest + ".json")
    with contextlib.suppress(OSError, ValueError):
        with open(path, encoding="utf-8") as handle:
            found = json.load(handle)
        if isinstance(found, dict) and found.get("user_classes"):
            return found
    found = plan_classes(plan["locustfile"], site)
    with contextlib.suppress(OSError):
        os.makedirs(cache, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", dir=cache, delete=False, suffix=".tmp") as out:
            json.dump(found, out)
        os.replace(out.name, path)
    return found


def usable_plan(given: str, name: str, exclude: list[str]) -> dict:
    """The plan folder or .py locustfile read and hashed (module_utils/locust_plan.py)."""
    path = os.path.realpath(os.path.expanduser(given)) if given else ""
    if not path or not (os.path.isdir(path) or (os.path.isfile(path) and path.endswith(".py"))):
        raise AnsibleActionFail(
            f"The plan {(given or '(none given)')!r} is not a plan folder or a .py locustfile on "
            f"the controller (a relative path counts from {os.getcwd()}); "
            "pass -e locust_plan=locustfiles/website."
        )
    try:
        return read_plan(given, name, exclude)
    except PlanError as err:
        raise AnsibleActionFail(f"The plan {given!r} cannot be used: {err}.") from None


def results_root(path: str) -> str:
    root = os.path.realpath(os.path.expanduser(path))
    try:
        os.makedirs(root, exist_ok=True)
        writable = os.access(root, os.W_OK | os.X_OK)
        why = "not writable"
    except OSError as err:
        writable, why = False, err.strerror
    if not writable:
        raise AnsibleActionFail(
            f"The results folder {root} cannot be written ({why}); pass -e locust_results_dir=DIR "
            "with a folder you can write."
        )
    return root


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False

    def _check_pins(self, plan: dict, task_vars: dict) -> None:
        """The plan's requirements.txt as exact pins, read by the module the hosts use, before
        the controller installs them or the fleet is claimed."""
        if "requirements.txt" not in plan["rels"]:
            return
        read = self._execute_module(
            module_name="fleet.locust.locust_plan_requirements",
            module_args={
                "mode": "parse",
                "requirements_file": os.path.join(plan["src"], "requirements.txt"),
            },
            task_vars=task_vars,
        )
        if read.get("failed"):
            raise AnsibleActionFail(f"{read.get('msg', read)}. Nothing was started.")

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        _, args = self.validate_argument_spec(argument_spec=ARGS)
        try:
            from locust_fleet.record import ids
        except ImportError as err:
            raise AnsibleActionFail(
                "the run needs the locust-fleet Python package on the controller, in the Python "
                f"that runs ansible-playbook ({err}); pip install locust-fleet"
            ) from None
        seconds = check_numbers(args)
        check_extra_args(args["extra_args"])
        check_written_values(args)
        check_inventory(args["masters"], args["workers"])
        secrets = secret_names(args["secret_env"], args["secret_env_from"])
        plan = usable_plan(args["plan"], args["plan_name"], args["plan_exclude"])
        self._check_pins(plan, task_vars)
        found = plan_classes_cached(plan, plan_site(plan))
        classes, shape = found["user_classes"], found["shape"]
        run_id = args["run_id"] or ids.new_run_id()
        problem = ids.check_run_id(run_id)
        if problem:
            raise AnsibleActionFail(f"locust_run_id: {problem}.")
        root = results_root(args["results_dir"])
        if os.path.exists(os.path.join(root, run_id, "run.json")):
            raise AnsibleActionFail(
                f"run id {run_id} was used already: {root}/{run_id}/run.json exists; choose "
                "another locust_run_id (--run-id), or none to get a new one. Nothing was started."
            )
        spec = {
            "plan": args["plan"],
            "user_classes": classes,
            "users": int(str(args["users"])),
            "spawn_rate": float(str(args["spawn_rate"])),
            "run_time": str(args["run_time"]),
            "run_seconds": seconds,
            "tags": args["tags"],
            "exclude_tags": args["exclude_tags"],
            "extra_args": args["extra_args"],
            "secret_env_names": secrets,
            "target_url": args["target_url"],
            "checks": args["checks"],
            "allow_saturated": args["allow_saturated"],
            "allow_no_requests": args["allow_no_requests"],
            # A LoadTestShape drives the run: -t bounds it; -u and -r reach it only when it
            # reads Locust's common options (use_common_options).
            "shape": shape,
        }
        # Upper bound of the run on the fleet: the workers' wait, run time, stop timeout, grace.
        deadline = args["expect_workers_timeout"] + seconds + args["stop_timeout"] + args["grace"]
        info = {
            "id": run_id,
            "mode": args["mode"],
            "seconds": seconds,
            "created_epoch": int(time.time()),
            "user_classes": classes,
            "results_root": root,
            "results_dir": os.path.join(root, run_id),
            "run_dir": os.path.join(args["data_dir"], "runs", run_id),
            # One transient unit per run: a sampler of an earlier, crashed run never blocks it.
            "sampler_unit": f"locust-cpu-sampler-{run_id}",
            "deadline_seconds": deadline,
            "claim_hold_seconds": args["claim_grace"] + deadline + 120,
            "by": f"{os.environ.get('USER') or 'someone'}@{os.uname().nodename}",
            "plan": {key: plan[key] for key in ("name", "src", "rels", "sums", "manifest_sha256")},
            "spec": spec,
        }
        result.update(changed=False, ansible_facts={"locust_run_info": info})
        return result
