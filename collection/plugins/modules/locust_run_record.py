# ruff: noqa: E501  (YAML documentation reads best one option a line)
# The work is done on the controller by the action plugin of the same name
# (plugins/action/locust_run_record.py); this file holds its documentation.

DOCUMENTATION = r"""
module: locust_run_record
short_description: Bring a run's host archives home safely and write its run.json
description:
  - Runs on the controller. Unpacks each host's archive (from M(fleet.locust.locust_run_collect))
    member by member into a fresh folder per host, refusing links, devices, absolute and C(..)
    paths and set-id bits, and moves only the files expected from that host into the run folder.
  - Merges the hosts' CPU samples into C(cpu_samples.csv) and writes C(run.json) with the typed
    record of the C(locust-fleet) Python package (schema version 2), which must be installed in
    the Python that runs ansible-playbook.
options:
  results_dir: {description: The run's folder on the controller (results/<run id>)., type: path, required: true}
  run_id: {description: The run's id., type: str, required: true}
  archives: {description: "Host name -> the archive_base64 that locust_run_collect returned.", type: dict, default: {}}
  master: {description: The master's inventory name (its archive may hold Locust's outputs)., type: str, required: true}
  workers: {description: The worker hosts., type: list, elements: str, default: []}
  targets: {description: The target hosts., type: list, elements: str, default: []}
  locust_version: {description: The pinned Locust version., type: str}
  phase: {description: "How the run ended: ended, or lost when the master did not record its end.", type: str, default: ended}
  error: {description: The orchestration's own account of what went wrong (empty when nothing did)., type: str, default: ""}
  stopped: {description: The run was ended by a stop (stop.yml, the UI's fetch)., type: bool, default: false}
  fallback_state: {description: The run's state as last read from the master, used when its state file could not be fetched., type: dict, default: {}}
author: locust-fleet
"""

RETURN = r"""
record: {description: What run.json now holds., returned: always, type: dict}
dir: {description: The run's folder on the controller., returned: always, type: str}
files: {description: "Host -> the files of its archive placed in the run folder.", returned: always, type: dict}
refused: {description: "Archive members refused, each 'host: name: why'.", returned: always, type: list}
"""

EXAMPLES = r"""
- name: Write run.json
  fleet.locust.locust_run_record:
    results_dir: results/20261201T101010Z-abc123
    run_id: 20261201T101010Z-abc123
    archives: {lf-master: "H4sI..."}
    master: lf-master
"""
