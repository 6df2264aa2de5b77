"""What a check found: one result per check, each failure with what and where."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Status(StrEnum):
    PASS = "PASS"
    FAIL = "FAIL"
    # Does not fail the audit: something an auditor should read (e.g. a value that could not be checked).
    NOTE = "NOTE"


@dataclass(frozen=True)
class Finding:
    status: Status
    what: str
    where: str

    def as_dict(self) -> dict[str, str]:
        return {"status": self.status.value, "what": self.what, "where": self.where}


@dataclass
class CheckResult:
    """One check (e.g. "custody") over the whole deployment."""

    name: str
    title: str
    findings: list[Finding] = field(default_factory=list)
    checked: int = 0  # how many items the check looked at (handoffs, verdicts, ...)

    def fail(self, what: str, where: str) -> None:
        self.findings.append(Finding(Status.FAIL, what, where))

    def note(self, what: str, where: str) -> None:
        self.findings.append(Finding(Status.NOTE, what, where))

    def ok(self, what: str, where: str) -> None:
        self.findings.append(Finding(Status.PASS, what, where))

    @property
    def status(self) -> Status:
        return Status.FAIL if any(f.status is Status.FAIL for f in self.findings) else Status.PASS

    @property
    def failures(self) -> list[Finding]:
        return [f for f in self.findings if f.status is Status.FAIL]

    def as_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "title": self.title,
            "status": self.status.value,
            "checked": self.checked,
            "findings": [f.as_dict() for f in self.findings],
        }
