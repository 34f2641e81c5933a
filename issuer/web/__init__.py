"""HTTP edge: pages for people (``admin``, ``learner``, ``public``) and APIs for machines
(``api``, ``vcapi``). :func:`issuer.web.routes.register` puts it all on an app."""
