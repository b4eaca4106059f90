# SPDX-License-Identifier: MIT
"""The report's checks by hand, from the source root (docs/report.md):

  PYTHONPATH=tools python3 -m ptxn_tools.report validate FILE...   check reports against the schema
  PYTHONPATH=tools python3 -m ptxn_tools.report render DIR         rewrite DIR's .md/.html from DIR/matrix.json
"""

import json
import os
import sys

from .run import rerender
from .schema import load_schema, validate


def main(argv):
    if len(argv) >= 2 and argv[0] == "validate":
        bad = 0
        for p in argv[1:]:
            with open(p) as f:
                errs = validate(json.load(f), load_schema())
            print("%s: %s" % (p, "ok" if not errs else "\n  ".join(["INVALID"] + errs)))
            bad += bool(errs)
        return 1 if bad else 0
    if len(argv) == 2 and argv[0] == "render":
        rerender(os.path.join(argv[1], "matrix.json"), argv[1])
        return 0
    print(__doc__.strip() + "\n\nusage: python3 -m ptxn_tools.report validate FILE... | render DIR",
          file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
