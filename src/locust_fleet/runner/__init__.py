"""Drive the fleet's playbooks through ansible-runner and follow their event stream."""

from .ansible import PlaybookOutcome, PlaybookRun
from .locate import ContentLocation, locate_content

__all__ = ["ContentLocation", "PlaybookOutcome", "PlaybookRun", "locate_content"]
