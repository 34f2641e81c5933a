"""Every error class the package raises on purpose, and an instance of each to raise.

The classes are found, not listed: every module of ``issuer`` is imported and every subclass
of :class:`issuer.core.errors.IssuerError` collected, so a class added anywhere is checked
by the tests that use this module without anyone remembering to add it.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from functools import cache
from typing import Any

import issuer
from issuer.core.errors import IssuerError

#: Values for the constructor parameters error classes take besides their message.
SAMPLE_ARGUMENTS: dict[str, Any] = {
    "message": "the sample problem",
    "term": "sampleTerm",
    "errors": ["sample: the first problem", "sample: the second problem"],
    "fields": {"name": "sample: a field problem"},
    "retry_after": 42,
    "number": 3,
    "reason": "unknown",
    "what": "credential",
    "name": "sample_parameter",
    "scope": "https://purl.imsglobal.org/spec/ob/v3p0/scope/credential.readonly",
}


@cache
def error_classes() -> tuple[type[IssuerError], ...]:
    """``IssuerError`` and all its subclasses, in a stable order."""
    for module in pkgutil.walk_packages(issuer.__path__, "issuer."):
        # Migration scripts run against a database when imported; they define no errors.
        if ".migrations" not in module.name:
            importlib.import_module(module.name)
    found: dict[str, type[IssuerError]] = {}
    pending: list[type[IssuerError]] = [IssuerError]
    while pending:
        cls = pending.pop()
        found[f"{cls.__module__}.{cls.__qualname__}"] = cls
        pending.extend(cls.__subclasses__())
    return tuple(found[name] for name in sorted(found))


def class_id(cls: type[IssuerError]) -> str:
    return f"{cls.__module__.removeprefix('issuer.')}.{cls.__qualname__}"


def sample(cls: type[IssuerError]) -> IssuerError:
    """An instance of ``cls``, made through its own constructor."""
    try:
        signature = inspect.signature(cls, eval_str=True)
    except NameError:  # an annotation only a type checker can resolve
        signature = inspect.signature(cls)
    kwargs: dict[str, Any] = {}
    for param in signature.parameters.values():
        if param.default is not inspect.Parameter.empty:
            continue
        wanted = param.annotation
        if isinstance(wanted, type) and issubclass(wanted, IssuerError):
            kwargs[param.name] = wanted("the sample cause")  # an error wrapping another
            continue
        assert param.name in SAMPLE_ARGUMENTS, (
            f"{class_id(cls)} takes {param.name!r}: add a sample value to SAMPLE_ARGUMENTS")
        kwargs[param.name] = SAMPLE_ARGUMENTS[param.name]
    return cls(**kwargs)
