"""``issuer init`` and ``issuer serve``: the service's database and its web server.

Exit codes follow :mod:`issuer.cli.errors`: 0 done, 1 refused, 2 a setting or a database
that cannot be used.
"""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
import sys
import tempfile
from typing import TYPE_CHECKING, Any

import click

from issuer.cli.common import migrate, service_runtime, service_settings, unit_of_work
from issuer.cli.errors import Unreadable
from issuer.config import DEFAULT_PORT, Settings

if TYPE_CHECKING:
    import socket

    from issuer.runtime import Runtime


def _print_urls(settings: Settings, demo: Any | None) -> None:
    base = settings.base
    click.echo("")
    click.echo(f"  Admin:        {base}/admin/")
    click.echo(f"  Verify page:  {base}/verify")
    if demo is not None:
        click.echo(f"  Demo badge:   {base}/credentials/{demo.credential.id}")
        click.echo(f"  Demo issuer:  {base}/issuers/{demo.issuer.slug}")
        if demo.learner is not None:
            # The handle is random (a profile must not reveal an email), so say where it is.
            click.echo(f"  Demo profile: {base}/people/{demo.learner.profile_handle}")
            where = ("the link shown on " + f"{base}/dev/outbox" if settings.smtp_host is None
                     else "the link mailed to it")
            click.echo(f"  Learner page: {base}/learn/ (sign in as {demo.learner.email} "
                       f"with {where})")
        if demo.admin_password:
            click.echo(f"  Sign in as {demo.admin_email} with password {demo.admin_password}")
    click.echo("")


def _init(rt: Runtime, demo: bool) -> Any:
    """Migrate the database and, with ``demo``, make the demo data; the demo or None."""
    from issuer.services.demo import ensure_demo

    migrate(rt)
    if not demo:
        return None
    with unit_of_work(rt) as session:
        return ensure_demo(session, rt.services, rt.settings.instance_dir)


@click.command("init")
@click.option("--demo", is_flag=True, help="Also create the demo issuer, badge and admin.")
def init(demo: bool) -> None:
    """Create or upgrade the database (and the demo data)."""
    settings = service_settings()
    with service_runtime(settings) as rt:
        info = _init(rt, demo)
    click.echo(f"database ready: {settings.database_url.split('@')[-1]}")
    _print_urls(settings, info)


@click.command("serve")
@click.option("--host", default=None,
              help="Interface to listen on (default from the base URL).")
@click.option("--port", default=None, type=click.IntRange(1, 65535),
              help="Port (default from ISSUER_BASE_URL, else 5000); without ISSUER_BASE_URL "
                   "the service names itself http(s)://127.0.0.1:PORT.")
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 64))
@click.option("--init-demo", is_flag=True,
              help="Run `init --demo` first (what `make run` does).")
@click.option("--certfile", type=click.Path(exists=True, dir_okay=False), default=None,
              help="Serve https with this PEM certificate (chain); needs --keyfile.")
@click.option("--keyfile", type=click.Path(exists=True, dir_okay=False), default=None,
              help="The PEM private key of --certfile.")
def serve(host: str | None, port: int | None, workers: int, init_demo: bool,
          certfile: str | None, keyfile: str | None) -> None:
    """Run the service with a production WSGI server (gunicorn), over https with
    --certfile and --keyfile."""
    from urllib.parse import urlsplit

    if (certfile is None) != (keyfile is None):
        raise click.UsageError("--certfile and --keyfile go together")
    settings = Settings.from_env(port=port, https=certfile is not None)
    parts = urlsplit(settings.base_url)
    if certfile is not None and parts.scheme != "https":
        # Credential ids and status list URLs are made from the base URL: an http one would
        # name addresses this server does not answer.
        raise click.UsageError(
            f"--certfile serves https, but ISSUER_BASE_URL is {settings.base_url}: set it "
            "to the https:// address")
    named = parts.port or (443 if parts.scheme == "https" else 80)
    host = host or parts.hostname or "127.0.0.1"
    port = port or named
    listener = _take_port(host, port)  # first: a port in use is all there is to say
    try:
        if port != named:
            # Behind a reverse proxy the public address is another port: not an error.
            click.echo(f"note: listening on port {port}, but links and credential ids name "
                       f"{settings.base} (ISSUER_BASE_URL)", err=True)
        metrics_dir = _share_metrics()
        from issuer.app import create_app, runtime

        app = create_app(settings)
        info = _init(runtime(app), init_demo)
        _print_urls(settings, info)
    except BaseException:
        listener.close()
        raise
    from issuer.wsgi_server import run

    helper = _embedded_worker(settings)
    try:
        run(app, listener=listener, workers=workers, certfile=certfile, keyfile=keyfile)
    finally:
        if metrics_dir is not None:
            shutil.rmtree(metrics_dir, ignore_errors=True)
        if helper is not None:
            helper.terminate()
            try:
                helper.wait(timeout=15)
            except subprocess.TimeoutExpired:
                helper.kill()


def _share_metrics() -> str | None:
    """Let the gunicorn workers count requests together (prometheus_client's multiprocess
    mode), in a folder of this server's own, removed when it stops; set before the metrics
    are made. None if the operator chose the folder."""
    from issuer.config import pool_process_metrics

    folder = tempfile.mkdtemp(prefix="issuer-metrics-")
    if pool_process_metrics(folder) != folder:
        os.rmdir(folder)
        return None
    return folder


def _embedded_worker(settings: Settings) -> subprocess.Popen[bytes] | None:
    """Without ``ISSUER_QUEUE_URL`` the web processes start confirmed bulk awards
    themselves, and one ``issuer worker`` beside them finishes what a crash left, sends
    mail due for another try, and stops with this command. With a queue, workers are
    started on their own (see the README)."""
    if settings.queue_url:
        return None
    command = [sys.executable, "-c", "from issuer.cli import main; main(prog_name='issuer')",
               "worker", "--poll", "5", "--with-parent", str(os.getpid())]
    return subprocess.Popen(command)  # noqa: S603 - this program's own command


def _take_port(host: str, port: int) -> socket.socket:
    """The socket the server will serve from; a port that cannot be had ends the command in
    one line that says what to do (exit 2)."""
    from issuer.wsgi_server import take_port

    try:
        return take_port(host, port)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            other = _free_port_after(host, port)
            raise Unreadable(
                f"port {port} is in use: stop what uses it, or run on another port: "
                f"make run PORT={other} (issuer serve --port {other})") from None
        if exc.errno == errno.EACCES:
            raise Unreadable(
                f"port {port} needs privileges this user does not have: run on a port above "
                f"1023, e.g. make run PORT={DEFAULT_PORT} (issuer serve --port "
                f"{DEFAULT_PORT})") from None
        raise Unreadable(f"cannot listen on {host}:{port}: {exc.strerror or exc} (--host "
                         "must be an address of this machine)") from None


def _free_port_after(host: str, port: int) -> int:
    """The first of the next few ports that is free now, to suggest instead of ``port``."""
    from issuer.wsgi_server import take_port

    for candidate in range(port + 1, min(port + 20, 65535) + 1):
        try:
            take_port(host, candidate).close()
        except OSError:
            continue
        return candidate
    return port + 1
