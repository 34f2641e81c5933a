"""Background work: the edge that runs work outside a request, with sessions of its own.

Like :mod:`issuer.web` for a request and :mod:`issuer.cli` for a command, this package owns
the transactions of what it runs: the services flush, and every step of a runner commits
through :func:`issuer.jobs.transaction.unit_of_work`, the package's one commit point.

* :mod:`issuer.jobs.bulk`: a bulk award, issued in batches on a thread of its own.
* :mod:`issuer.jobs.mail`: delivery of the outbox over SMTP, one message or many at once.

A runner takes a session factory, the service context and the id of what it works on (a
bulk award also its rows and options, which its job row does not keep yet), so that what
starts it (a web view after its commit, the CLI, later a job queue) does not matter to it.
"""
