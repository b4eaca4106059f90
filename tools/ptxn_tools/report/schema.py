# SPDX-License-Identifier: MIT
"""Validation against docs/report.schema.json, by python3-jsonschema (`./matrix setup`
installs it; Debian 12 has 4.10).

Part of the conformance report (ptxn_tools.report, docs/report.md).
"""

import datetime
import json
import os

import jsonschema

from ..common import ROOT
from .common import ReportError, SCHEMA_PATH


# ------------------------------------------------------------------------- validation

# "format" is only an annotation unless a checker is given; jsonschema checks date-time
# only with an optional package (rfc3339-validator). The reports' timestamps come from
# datetime.isoformat(), so that is what reads them back: an ISO 8601 date-time with a UTC
# offset.
FORMATS = jsonschema.FormatChecker(formats=())


@FORMATS.checks("date-time", raises=ValueError)
def _date_time(value):
    if not isinstance(value, str):
        return True
    if datetime.datetime.fromisoformat(value.replace("Z", "+00:00")).tzinfo is None:
        raise ValueError("%r has no UTC offset" % value)
    return True


def validate(instance, schema):
    """Every way `instance` does not match `schema`, as "$.json.path: message" strings in
    document order (empty: it matches)."""
    cls = jsonschema.validators.validator_for(schema)
    errors = cls(schema, format_checker=FORMATS).iter_errors(instance)
    return ["%s: %s%s" % (e.json_path, e.message, " (%s)" % e.cause if e.cause else "")
            for e in sorted(errors, key=lambda e: list(e.absolute_path))]


def load_schema():
    with open(SCHEMA_PATH) as f:
        return json.load(f)


def check(report, schema=None):
    errs = validate(report, schema or load_schema())
    if errs:
        raise ReportError("report does not match %s:\n  %s" % (
            os.path.relpath(SCHEMA_PATH, ROOT), "\n  ".join(errs[:20])))
