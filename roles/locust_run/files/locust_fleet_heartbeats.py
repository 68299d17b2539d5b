"""Give a busy worker time before the master takes it for lost (loaded by every headless master).

Locust's master marks a worker missing after HEARTBEAT_LIVENESS (3) heartbeat intervals of
1 s without a word, hands that worker's users to the others, and does not take them back
when the worker speaks again: a worker starved of CPU during a big ramp is not lost, it
goes on running its users, and the fleet ends up running more users than the run asked
for (seen on the sandbox at 100,000 users: 305,867 in the history). Ten seconds of grace
lets a busy worker catch up; a host that is really gone is still noticed ten seconds after
its last heartbeat. The verdict flags any run whose history shows more users than asked
(locust_fleet.overrun), with or without this grace.
"""

from __future__ import annotations

import locust.runners

LIVENESS_SECONDS = 10

locust.runners.HEARTBEAT_LIVENESS = max(locust.runners.HEARTBEAT_LIVENESS, LIVENESS_SECONDS)
