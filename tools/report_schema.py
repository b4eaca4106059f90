# SPDX-License-Identifier: MIT
"""Validation against docs/report.schema.json (the subset of JSON Schema it uses).

Part of the conformance report (tools/report.py, which re-exports every name).
"""

import datetime
import json
import os

from report_common import ROOT, ReportError, SCHEMA_PATH


# ------------------------------------------------------------------------- validation


def _type_ok(v, t):
    return {"object": lambda: isinstance(v, dict),
            "array": lambda: isinstance(v, list),
            "string": lambda: isinstance(v, str),
            "integer": lambda: isinstance(v, int) and not isinstance(v, bool),
            "number": lambda: isinstance(v, (int, float)) and not isinstance(v, bool),
            "boolean": lambda: isinstance(v, bool),
            "null": lambda: v is None}[t]()


def validate(instance, schema, root=None, path="$"):
    """The subset of JSON Schema (2020-12) that docs/report.schema.json uses: $ref to
    #/$defs, type, const, enum, required, properties, additionalProperties: false, items,
    minimum, exclusiveMinimum, format: date-time. Returns a list of error strings."""
    root = schema if root is None else root
    errs = []
    if "$ref" in schema:
        ref = schema["$ref"]
        if not ref.startswith("#/"):
            return ["%s: unsupported $ref %s" % (path, ref)]
        node = root
        for part in ref[2:].split("/"):
            node = node[part]
        return validate(instance, node, root, path)
    if "type" in schema:
        types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        if not any(_type_ok(instance, t) for t in types):
            return ["%s: %r is not of type %s" % (path, instance, "/".join(types))]
    if "const" in schema and instance != schema["const"]:
        errs.append("%s: %r is not %r" % (path, instance, schema["const"]))
    if "enum" in schema and instance not in schema["enum"]:
        errs.append("%s: %r is not one of %r" % (path, instance, schema["enum"]))
    if isinstance(instance, (int, float)) and not isinstance(instance, bool):
        if "minimum" in schema and instance < schema["minimum"]:
            errs.append("%s: %r < %r" % (path, instance, schema["minimum"]))
        if "exclusiveMinimum" in schema and instance <= schema["exclusiveMinimum"]:
            errs.append("%s: %r <= %r" % (path, instance, schema["exclusiveMinimum"]))
    if isinstance(instance, str) and schema.get("format") == "date-time":
        try:
            d = datetime.datetime.fromisoformat(instance.replace("Z", "+00:00"))
            if d.tzinfo is None:
                errs.append("%s: %r has no UTC offset" % (path, instance))
        except ValueError:
            errs.append("%s: %r is not an ISO 8601 date-time" % (path, instance))
    if isinstance(instance, dict):
        for k in schema.get("required", []):
            if k not in instance:
                errs.append("%s: missing %r" % (path, k))
        props = schema.get("properties", {})
        for k, v in instance.items():
            if k in props:
                errs += validate(v, props[k], root, "%s.%s" % (path, k))
            elif schema.get("additionalProperties") is False:
                errs.append("%s: unexpected property %r" % (path, k))
    if isinstance(instance, list) and "items" in schema:
        for i, v in enumerate(instance):
            errs += validate(v, schema["items"], root, "%s[%d]" % (path, i))
    return errs


def load_schema():
    with open(SCHEMA_PATH) as f:
        return json.load(f)


def check(report, schema=None):
    errs = validate(report, schema or load_schema())
    if errs:
        raise ReportError("report does not match %s:\n  %s" % (
            os.path.relpath(SCHEMA_PATH, ROOT), "\n  ".join(errs[:20])))
