"""The published scaffolding framework: the page peer attestations align to.

Each item has its own fragment (``/frameworks/scaffolding#recruitment``), the ``targetUrl``
of the OB 3.0 §B.1.5 Alignments in the credentials and their endorsements, and the rubric
levels the credentials record (§B.1.18).
"""

from __future__ import annotations

from typing import Any

from flask import render_template

from issuer.services.attestation_scaffolding import (
    CHARACTERISTICS,
    FRAMEWORK_NAME,
    FRAMEWORK_PATH,
    FUNCTIONS,
    LEVELS,
)
from issuer.web.blueprints import public as bp


@bp.route(FRAMEWORK_PATH)
def scaffolding_framework() -> Any:
    return render_template("public/scaffolding.html", name=FRAMEWORK_NAME,
                           functions=FUNCTIONS, characteristics=CHARACTERISTICS, levels=LEVELS)
