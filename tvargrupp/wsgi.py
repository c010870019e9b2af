import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tvargrupp.settings")

application = get_wsgi_application()

from tvargrupp.startup import check_ready_to_serve, warm_templates  # noqa: E402 (needs settings)

check_ready_to_serve()
warm_templates()
