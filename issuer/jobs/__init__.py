"""Background work: the edge that runs work outside a request, with sessions of its own.

Like :mod:`issuer.web` for a request and :mod:`issuer.cli` for a command, this package owns
the transactions of what it runs: the services flush, and every step of a runner commits
through :func:`issuer.jobs.transaction.unit_of_work`, the package's one commit point.

* :mod:`issuer.jobs.bulk`: a bulk award, issued in batches by whichever worker holds its
  lease, resumed where it stopped.
* :mod:`issuer.jobs.mail`: delivery of the outbox over SMTP, one message or many at once.
* :mod:`issuer.jobs.queue`: the Dramatiq broker (Redis or RabbitMQ) that wakes workers.
* :mod:`issuer.jobs.worker`: the loop of an ``issuer worker`` process.

A runner takes a session factory, the service context and the id of what it works on; a
queued bulk award keeps its file and options in the database, so that what starts it (a
web view after its commit, the CLI, a worker woken by the queue or finding it in the
database) does not matter to it.
"""
