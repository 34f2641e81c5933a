"""``issuer activity``: evidence of informal learning from community archives.

``issuer activity import --format stackexchange|discourse|mastodon|mbox FILE --handle HANDLE
[--json] [--progress/--no-progress]`` reads an archive a person downloaded and summarises
HANDLE's activity under the counting rules of :mod:`issuer.core.activity.rules`. HANDLE is
the Stack Exchange user id (``OwnerUserId``), the Discourse username, the Mastodon account
(``name@host``, ``@name@host`` or its URL) or the mail address.

What each format accepts (:mod:`issuer.core.activity`): Stack Exchange, a dump's
``Posts.xml`` (a ``Users.xml`` beside it gives the accounts' ages; the folder's name, such as
``cooking.stackexchange.com``, names the site) or the API's JSON; Discourse, a topic's JSON
or ``user_archive.csv`` (whose posts are taken as HANDLE's); Mastodon, ``outbox.json``; mail,
an mbox file.

Exit codes follow :mod:`issuer.cli.errors`: 0 done; 1 refused, when the archive holds nothing
written by HANDLE (with ``--json`` the summary is printed all the same); 2 a file that cannot
be read (missing, too large, not the format named, XML with a document type). Items that
cannot be read are listed (``errors``) and left out; they do not stop the import. Progress
(bytes read, time taken) goes to stderr, by default only when stderr is a terminal, so
stdout and ``--json`` stay clean. Nothing here loads a web framework or a database.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, BinaryIO

import click

from issuer.cli.errors import Refused
from issuer.cli.progress import Progress, open_counted
from issuer.core.activity.model import Archive, Limits

FORMATS = ("stackexchange", "discourse", "mastodon", "mbox")


def _starts_with(path: Path, marks: tuple[bytes, ...]) -> bool:
    with path.open("rb") as stream:
        head = stream.read(512).lstrip(b"\xef\xbb\xbf").lstrip()
    return head.startswith(marks)


def _site(path: Path) -> str | None:
    """A dump's folder is named for its site (``cooking.stackexchange.com``)."""
    name = path.resolve().parent.name
    return name if "." in name and " " not in name else None


def read_archive(fmt: str, path: Path, handle: str, limits: Limits,
                 progress: Progress | None = None) -> Archive:
    """The archive at ``path`` read as ``fmt``; ``progress`` hears of the bytes read."""
    from issuer.core.activity import discourse, mastodon, mbox, stackexchange

    def opened(file: Path) -> BinaryIO:
        return file.open("rb") if progress is None else open_counted(file, progress)

    if fmt == "mbox":
        if progress is not None:
            # The mailbox module opens the file itself: its reads cannot be counted.
            progress.start(path, counted=False)
        return mbox.read_mbox(path, limits=limits)
    with opened(path) as stream:
        if fmt == "mastodon":
            return mastodon.read_outbox_json(stream, limits=limits)
        if fmt == "discourse":
            if _starts_with(path, (b"{",)):
                return discourse.read_topic_json(stream, limits=limits)
            return discourse.read_user_archive_csv(stream, owner=handle, limits=limits)
        if _starts_with(path, (b"{",)):
            return stackexchange.read_api_json(stream, limits=limits)
        archive = stackexchange.read_posts_xml(stream, site=_site(path), handle=handle,
                                               limits=limits)
    users = path.with_name("Users.xml")
    if users.is_file() and users.resolve() != path.resolve():
        with opened(users) as stream:
            accounts = stackexchange.read_users_xml(stream, limits=limits)
        archive.accounts_created.update(accounts.accounts_created)
    return archive


def normal_handle(fmt: str, handle: str) -> str:
    """HANDLE written the way the archive writes its people."""
    from issuer.core.activity.mastodon import account_name

    handle = handle.strip()
    if fmt == "mastodon":
        return account_name(handle) or handle.lower()
    if fmt == "mbox":
        return handle.lower()
    if fmt == "stackexchange" and handle.isdigit():
        return str(int(handle))
    return handle


@click.group("activity")
def activity() -> None:
    """Evidence of informal learning: help given in forums, Q&A sites, lists and social media."""


@activity.command("import")
@click.option("--format", "fmt", required=True, type=click.Choice(FORMATS),
              help="The kind of archive.")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--handle", required=True, metavar="HANDLE",
              help="Whose activity to summarise, as the archive names people.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option("--max-bytes", type=click.IntRange(min=1), default=Limits.max_bytes,
              show_default=True, help="Refuse a larger file.")
@click.option("--max-items", type=click.IntRange(min=1), default=Limits.max_items,
              show_default=True, help="Read at most this many posts or messages.")
@click.option("--progress/--no-progress", "show_progress", default=None,
              help="Show the bytes read and the time taken on stderr "
                   "[default: when stderr is a terminal].")
def import_archive(fmt: str, file: Path, handle: str, as_json: bool, max_bytes: int,
                   max_items: int, show_progress: bool | None) -> None:
    """Read an archive and summarise HANDLE's activity and the help they gave."""
    from issuer.core.activity.rules import summarise

    if show_progress is None:
        show_progress = sys.stderr.isatty()
    progress = Progress(enabled=True) if show_progress else None
    person = normal_handle(fmt, handle)
    archive = read_archive(fmt, file, person, Limits(max_bytes=max_bytes, max_items=max_items),
                           progress)
    if progress is not None:
        progress.finish(len(archive.interactions))
    summary = summarise(person, archive.interactions, archive.accounts_created)
    report: dict[str, Any] = {
        "format": fmt,
        "file": str(file),
        "file_sha256": archive.source_sha256,
        "items": len(archive.interactions),
        **summary.as_json(),
        "truncated": archive.truncated,
        "errors": [{"item": e.item, "message": e.message} for e in archive.errors],
    }
    if as_json:
        click.echo(json.dumps(report, indent=2))
    else:
        _print(report)
    if not summary.interactions:
        raise Refused(f"{file.name} holds nothing written by {person}")


def _print(report: dict[str, Any]) -> None:
    rate = report["acknowledged_rate"]
    lines = [
        f"{report['file']} ({report['format']}, sha256 {report['file_sha256']})",
        f"posts by {report['handle']}: {report['interactions']}",
        f"answers to others: {report['answers_to_others']} "
        f"(people helped: {report['people_helped']})",
        f"acknowledged: {report['acknowledged']} by {report['acknowledging_people']} people"
        + (f", rate {rate:.0%}" if rate is not None else ""),
        f"acknowledgements counted: {report['counted_acknowledgements']:g}",
        f"threads: {report['threads']}, communities: {report['communities']}, "
        f"months active: {report['months_active']}",
    ]
    if report["flags"]:
        lines.append("flags: " + ", ".join(report["flags"]))
    for line in lines:
        click.echo(line)
    for error in report["errors"]:
        click.echo(f"item {error['item']}: {error['message']}", err=True)
    if report["truncated"]:
        click.echo("reading stopped at the item limit", err=True)
