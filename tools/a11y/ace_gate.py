"""Gate on an Ace by DAISY report: fail if axe found any serious or critical violation.

Usage: python tools/a11y/ace_gate.py REPORT.json [--fail-on serious,critical]

Prints every violation (all impacts, so minor and moderate ones are seen too) as
``impact  rule  document  css-selector  description``, then a summary. Exit status 1 if any violation
has an impact listed in --fail-on, 2 if the report cannot be read or is not an Ace report.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

IMPACTS = ("critical", "serious", "moderate", "minor")


def violations(report: dict) -> list[dict]:
    """Return one record per failed check in an Ace report.json."""
    found = []
    for document in report.get("assertions", []):
        url = document.get("earl:testSubject", {}).get("url", "?")
        for check in document.get("assertions", []):
            result = check.get("earl:result", {})
            if result.get("earl:outcome") != "fail":
                continue
            test = check.get("earl:test", {})
            pointer = result.get("earl:pointer", {})
            found.append({
                "document": url,
                "rule": test.get("dct:title", "?"),
                "impact": test.get("earl:impact", "unknown"),
                "where": ", ".join(pointer.get("css", [])) or "-",
                "description": " ".join(str(result.get("dct:description", "")).split()),
                "help": test.get("help", {}).get("url", ""),
            })
    order = {impact: i for i, impact in enumerate(IMPACTS)}
    found.sort(key=lambda v: (order.get(v["impact"], len(IMPACTS)), v["rule"], v["document"]))
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("report", type=Path)
    parser.add_argument("--fail-on", default="serious,critical",
                        help="comma-separated impacts that fail the gate (default: serious,critical)")
    args = parser.parse_args(argv)
    fail_on = {part.strip() for part in args.fail_on.split(",") if part.strip()}

    try:
        report = json.loads(args.report.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        print(f"ace_gate: cannot read {args.report}: {exc}", file=sys.stderr)
        return 2
    if "assertions" not in report or "earl:result" not in report:
        print(f"ace_gate: {args.report} is not an Ace report", file=sys.stderr)
        return 2
    documents = len(report["assertions"])
    if documents == 0:
        print(f"ace_gate: {args.report} checked no documents", file=sys.stderr)
        return 2

    found = violations(report)
    for v in found:
        print(f"{v['impact']:<9} {v['rule']:<24} {v['document']}  {v['where']}\n"
              f"          {v['description']}" + (f"\n          {v['help']}" if v["help"] else ""))
    counts = {impact: sum(v["impact"] == impact for v in found) for impact in IMPACTS}
    summary = ", ".join(f"{n} {impact}" for impact, n in counts.items())
    failing = [v for v in found if v["impact"] in fail_on]
    meta = report.get("a11y-metadata", {})
    if meta.get("missing"):
        print(f"ace: accessibility metadata not given: {', '.join(meta['missing'])}")
    print(f"ace: {documents} documents checked; violations: {summary}")
    if failing:
        print(f"ace: FAILED: {len(failing)} violation(s) with impact {' or '.join(sorted(fail_on))}",
              file=sys.stderr)
        return 1
    print("ace: passed (no " + " or ".join(sorted(fail_on)) + " violations)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
