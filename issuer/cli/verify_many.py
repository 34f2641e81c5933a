"""``issuer verify`` over many files: one process, one verifier, one line per file.

A script that verifies a folder of badges would otherwise pay for starting the command once
per file. Given more than one path, or a folder, ``issuer verify`` verifies each file with the
same verifier and prints ``VALID path`` or ``INVALID path: <first failed check>`` (with
``--json``, an array of reports that each name their path), then a summary line.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from issuer.cli.errors import EXIT_INVALID, EXIT_OK, EXIT_UNREADABLE, CommandError
from issuer.core.errors import IssuerError

if TYPE_CHECKING:
    from issuer.core.verify import VerificationReport

#: What a folder contributes: the files that can hold a credential (JSON, a compact JWT, or
#: a baked image, OB 3.0 §5.3), by their suffix.
CREDENTIAL_SUFFIXES = (".json", ".jwt", ".png", ".svg")


def is_folder(path: str) -> bool:
    """Whether ``path`` names a local folder (never a URL or standard input)."""
    if path == "-" or "://" in path:
        return False
    return Path(path).is_dir()


def expand(paths: Iterable[str]) -> list[str]:
    """``paths`` with each folder replaced by its credential files, sorted by name.

    A folder's subfolders are not entered. A folder with no credential file stays in the
    list, so that it is reported as unreadable rather than silently skipped.
    """
    files: list[str] = []
    for path in paths:
        if not is_folder(path):
            files.append(path)
            continue
        found = sorted(
            entry for entry in Path(path).iterdir()
            if entry.suffix.lower() in CREDENTIAL_SUFFIXES and entry.is_file()
        )
        files.extend(str(entry) for entry in found) if found else files.append(path)
    return files


@dataclass(frozen=True)
class Result:
    """One file's verdict: its report, or why it could not be verified and the exit code
    that reason would have ended a single verification with."""

    path: str
    report: VerificationReport | None = None
    error: str = ""
    code: int = EXIT_UNREADABLE

    @property
    def valid(self) -> bool:
        return self.report is not None and self.report.valid

    @property
    def unreadable(self) -> bool:
        return self.report is None and self.code == EXIT_UNREADABLE

    @property
    def line(self) -> str:
        if self.valid:
            return f"VALID {self.path}"
        if self.unreadable:
            return f"UNREADABLE {self.path}: {self.error}"
        first = self.report.failed[0] if self.report is not None and self.report.failed else None
        reason = f"{first.id}: {first.message}" if first else self.error or "not valid"
        return f"INVALID {self.path}: {reason}"

    def to_json(self) -> dict[str, Any]:
        if self.report is None:
            return {"path": self.path, "valid": False, "error": self.error}
        return {"path": self.path, **self.report.to_json()}


def verify_each(paths: Sequence[str],
                report_for: Callable[[str], VerificationReport]) -> list[Result]:
    """Each path's result; a file that cannot be read or used does not stop the others."""
    results = []
    for path in paths:
        try:
            results.append(Result(path, report=report_for(path)))
        except CommandError as exc:
            results.append(Result(path, error=exc.format_message(), code=exc.exit_code))
        except IssuerError as exc:
            results.append(Result(path, error=exc.message, code=exc.exit_code))
    return results


def exit_code(results: Sequence[Result]) -> int:
    """2 when any file could not be read, else 1 when any is invalid, else 0."""
    if any(r.unreadable for r in results):
        return EXIT_UNREADABLE
    return EXIT_OK if all(r.valid for r in results) else EXIT_INVALID


def summary(results: Sequence[Result]) -> str:
    """``N files: V valid, I invalid, U unreadable``."""
    valid = sum(1 for r in results if r.valid)
    unreadable = sum(1 for r in results if r.unreadable)
    invalid = len(results) - valid - unreadable
    noun = "file" if len(results) == 1 else "files"
    return (f"{len(results)} {noun}: {valid} valid, {invalid} invalid, "
            f"{unreadable} unreadable")


def print_results(results: Sequence[Result], *, as_json: bool) -> None:
    """One line per file and the summary, or (``--json``) one array of reports."""
    if as_json:
        click.echo(json.dumps([r.to_json() for r in results], indent=2, ensure_ascii=False))
        return
    for result in results:
        click.echo(result.line)
    click.echo(summary(results))
