"""Known vulnerabilities in the locked runtime dependencies, reported honestly.

    python scripts/audit.py var/audit-requirements.txt     (run by `make audit`)

pip-audit asks PyPI's JSON API for each pinned package. Where that API cannot
be reached (as on a machine with only a package mirror), every package comes
back "could not be audited" and pip-audit still prints "No known
vulnerabilities found": this script says NOT CHECKED instead, and fails when
AUDIT_REQUIRE_DATA=1 (set it where the data is reachable). A vulnerability
fails the audit unless it is listed in ACCEPTED with the reason from
docs/security.md.
"""

import json
import os
import subprocess  # nosec B404
import sys

# Vulnerability id -> why it does not apply (each explained in docs/security.md).
ACCEPTED: dict[str, str] = {}


def main(requirements: str) -> int:
    # pip-audit: our own interpreter with fixed arguments, no shell (docs/security.md).
    result = subprocess.run(  # noqa: S603 # nosec B603
        [
            sys.executable,
            "-m",
            "pip_audit",
            "--disable-pip",
            "--no-deps",
            "--requirement",
            requirements,
            "--format",
            "json",
            "--progress-spinner",
            "off",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    try:
        report = json.loads(result.stdout)
    except json.JSONDecodeError:
        print(result.stdout + result.stderr)
        print("pip-audit failed before it could report: NOT CHECKED.")
        return 1
    dependencies = report.get("dependencies", [])
    audited = [d for d in dependencies if "skip_reason" not in d]
    skipped = [d for d in dependencies if "skip_reason" in d]
    findings = [(d, v) for d in audited for v in d.get("vulns", [])]
    open_findings = [(d, v) for d, v in findings if v["id"] not in ACCEPTED]

    for dependency, vuln in findings:
        status = "accepted" if vuln["id"] in ACCEPTED else "OPEN"
        fixes = ", ".join(vuln.get("fix_versions", [])) or "none yet"
        print(
            f"{status}: {dependency['name']} {dependency['version']}: {vuln['id']} "
            f"(fixed in {fixes})"
        )
    print(
        f"pip-audit: {len(audited)} of {len(dependencies)} locked packages checked, "
        f"{len(findings)} known vulnerabilities, {len(open_findings)} not accepted."
    )
    if skipped:
        reason = skipped[0]["skip_reason"]
        print(f"{len(skipped)} packages NOT CHECKED, e.g. {skipped[0]['name']}: {reason}")
    if dependencies and not audited:
        print(
            "NOT CHECKED: no vulnerability data could be fetched from here. This is not a "
            "clean result; run `make audit` where PyPI's JSON API is reachable."
        )
        if os.environ.get("AUDIT_REQUIRE_DATA") == "1":
            return 1
    return 1 if open_findings else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
