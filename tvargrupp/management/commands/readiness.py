"""The checks behind /readyz, from the command line (the compose health checks use it).

python manage.py readiness            # all checks, JSON, exit status 1 if one fails
python manage.py readiness --only worker
"""

import json

from django.core.management.base import BaseCommand

from tvargrupp.health import CHECKS


class Command(BaseCommand):
    help = "Check the database, Redis, the worker's heartbeat and the e-mail outbox."

    def add_arguments(self, parser):
        parser.add_argument("--only", choices=sorted(CHECKS), action="append", default=[])

    def handle(self, *args, only: list[str], **options):
        results = {name: CHECKS[name]() for name in only or CHECKS}
        ok = all(result.ok for result in results.values())
        body = {"status": "ok" if ok else "fail"}
        body["checks"] = {name: result.as_dict() for name, result in results.items()}
        self.stdout.write(json.dumps(body))
        if not ok:
            raise SystemExit(1)
