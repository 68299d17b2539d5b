"""Run fleet.locust.locust_host_facts on a host and measure the host's clock against the
controller's on the way: the module's answer carries two host clock readings (its process's
start, its answer), this plugin the controller's send and receive times around the call."""

from __future__ import annotations

import time

from ansible.plugins.action import ActionBase


def clock_offset(sent: float, host_start: float, host_answer: float, received: float):
    """(offset, delay) in seconds, as NTP computes them: the host's clock minus the
    controller's, and the round trip minus the host's own time in it (the offset is right
    to within half the delay)."""
    offset = ((host_start - sent) + (host_answer - received)) / 2
    delay = (received - sent) - (host_answer - host_start)
    return offset, max(delay, 0.0)


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _exchange = (0.0, 0.0)

    def _low_level_execute_command(self, *args, **kwargs):
        # Timed around the command itself, not the module's packing before it or the
        # parsing after: the closer to the wire, the more even the two legs.
        sent = time.time()
        done = super()._low_level_execute_command(*args, **kwargs)
        self._exchange = (sent, time.time())
        return done

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        answer = self._execute_module(
            module_name="fleet.locust.locust_host_facts",
            module_args=self._task.args,
            task_vars=task_vars,
        )
        result.update(answer)
        sent, received = self._exchange
        host_start, host_answer = answer.get("started_clock"), answer.get("clock")
        if sent and isinstance(host_start, float) and isinstance(host_answer, float):
            offset, delay = clock_offset(sent, host_start, host_answer, received)
            result["clock_offset_ms"] = round(offset * 1000, 1)
            result["clock_delay_ms"] = round(delay * 1000, 1)
        return result
