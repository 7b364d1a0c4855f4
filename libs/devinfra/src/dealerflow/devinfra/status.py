"""What ``status`` reports about one piece of infrastructure."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

State = Literal["running", "external", "stopped"]


@dataclass(frozen=True)
class ComponentStatus:
    """``running``: started by us and alive; ``external``: the port answers but the
    process is not ours; ``stopped``: nothing there."""

    name: str
    state: State
    address: str
    pid: int | None
    log: Path | None

    def describe(self) -> str:
        """One human line, e.g. ``kafka      running   127.0.0.1:9092 (pid 42)``."""
        extra = f" (pid {self.pid})" if self.pid else ""
        if self.state == "external":
            extra = " (not started by dealerflow-infra)"
        return f"{self.name:<10} {self.state:<9} {self.address}{extra}"
