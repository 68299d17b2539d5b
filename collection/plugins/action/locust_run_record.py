"""Controller side of a run's end: unpack every host's archive safely, write run.json.

The typed record lives in the locust-fleet Python package (locust_fleet.record),
so the CLI and a plain ansible-playbook run write the very same run.json.
"""

from __future__ import annotations

from pathlib import Path

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase

ARGS = {
    "results_dir": {"type": "path", "required": True},
    "run_id": {"type": "str", "required": True},
    "archives": {"type": "dict", "default": {}},
    # What each host's collector left out of its archive: [{"name", "reason"}] per host.
    "skipped": {"type": "dict", "default": {}},
    "master": {"type": "str", "required": True},
    "workers": {"type": "list", "elements": "str", "default": []},
    "targets": {"type": "list", "elements": "str", "default": []},
    "locust_version": {"type": "str"},
    "phase": {"type": "str", "default": "ended"},
    "error": {"type": "str", "default": ""},
    "stopped": {"type": "bool", "default": False},
    "fallback_state": {"type": "dict", "default": {}},
}


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        _, args = self.validate_argument_spec(argument_spec=ARGS)
        try:
            from locust_fleet import record
        except ImportError as err:
            raise AnsibleActionFail(
                "fleet.locust.locust_run_record needs the locust-fleet Python package on the "
                f"controller, in the Python that runs ansible-playbook ({err}); "
                "pip install locust-fleet"
            ) from None
        run_dir = Path(args["results_dir"])
        run_dir.mkdir(parents=True, exist_ok=True)
        refused, placed = [], {}
        for host, archive in sorted((args["archives"] or {}).items()):
            if not archive:
                continue
            try:
                got = record.bring_home(host, archive, run_dir, is_master=host == args["master"])
            except record.ArchiveError as err:
                refused.append(str(err))
                continue
            placed[host] = got.files
            refused += [f"{host}: {why}" for why in got.refused]
        for host, items in sorted((args["skipped"] or {}).items()):
            refused += [
                f"{host}: {item.get('name')}: {item.get('reason')} (left on the host)"
                for item in items or []
                if isinstance(item, dict)
            ]
        record.merge_cpu_samples(run_dir)
        hosts = record.RecordHosts(args["master"], list(args["workers"]), list(args["targets"]))
        built = record.build_record(
            run_dir,
            run_id=args["run_id"],
            hosts=hosts,
            state=record.read_state(run_dir) or args["fallback_state"],
            phase=args["phase"],
            locust_version=args["locust_version"],
            error=args["error"],
            stopped=args["stopped"],
            refused=refused,
        )
        built.write(run_dir / "run.json")
        result.update(
            changed=True, record=built.to_dict(), dir=str(run_dir), files=placed, refused=refused
        )
        return result
