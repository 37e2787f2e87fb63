#!/usr/bin/env python3
"""Validate a SARIF log against the OASIS SARIF 2.1.0 JSON schema (draft-07).

usage: check_sarif.py SCHEMA SARIF_FILE
exit 0: valid; 1: invalid (every error printed on stderr); 2: usage, unreadable
file or JSON that does not parse.  Used by tests/test_report.c.
"""
import json
import re
import sys

import jsonschema

# Without the optional rfc3987 package jsonschema does not check "uri" and
# "uri-reference"; these checks (RFC 3986 character set, well-formed percent
# escapes, at most one '#', a scheme for "uri") catch what a reporter can get wrong.
_URI_CHARS = re.compile(r"^(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/?#\[\]]|%[0-9A-Fa-f]{2})*$")
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:")


def _uri_reference(value):
    return not isinstance(value, str) or (
        _URI_CHARS.match(value) is not None and value.count("#") <= 1)


def _uri(value):
    return not isinstance(value, str) or (
        _uri_reference(value) and _SCHEME.match(value) is not None)


def main(argv):
    if len(argv) != 3:
        print("usage: check_sarif.py SCHEMA SARIF_FILE", file=sys.stderr)
        return 2
    try:
        with open(argv[1], encoding="utf-8") as f:
            schema = json.load(f)
        with open(argv[2], encoding="utf-8") as f:
            log = json.load(f)
    except (OSError, ValueError) as e:
        print(f"check_sarif: {e}", file=sys.stderr)
        return 2
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    checker = getattr(cls, "FORMAT_CHECKER", None) or jsonschema.FormatChecker()
    if "uri-reference" not in checker.checkers:
        checker.checks("uri-reference")(_uri_reference)
    if "uri" not in checker.checkers:
        checker.checks("uri")(_uri)
    errors = sorted(cls(schema, format_checker=checker).iter_errors(log),
                    key=lambda e: list(e.absolute_path))
    for e in errors:
        where = "/".join(str(p) for p in e.absolute_path) or "(root)"
        print(f"check_sarif: {where}: {e.message}", file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
