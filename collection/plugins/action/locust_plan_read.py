"""Read a plan on the controller: its name on the hosts and its files with their sha256.

Used by the locust_testplan role before it ships a plan; one task in place of a
stat, a find and the lists built from them.
"""

from __future__ import annotations

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase
from ansible_collections.fleet.locust.plugins.module_utils.locust_plan import (
    DEFAULT_EXCLUDE,
    PlanError,
    read_plan,
)

ARGS = {
    "src": {"type": "str", "required": True},
    "name": {"type": "str", "default": ""},
    "exclude": {"type": "list", "elements": "str", "default": DEFAULT_EXCLUDE},
    # The built-in idle plan: its reserved name (_idle) is not checked.
    "builtin": {"type": "bool", "default": False},
}


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        _, args = self.validate_argument_spec(argument_spec=ARGS)
        try:
            plan = read_plan(args["src"], args["name"], args["exclude"], not args["builtin"])
        except PlanError as err:
            raise AnsibleActionFail(f"locust_testplan_src: {err}") from None
        result.update(changed=False, plan=plan)
        return result
