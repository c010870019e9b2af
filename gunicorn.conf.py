"""gunicorn's settings for Tvärgrupp (gunicorn reads this file from its working directory).

Everything has a production default; the environment may change the port
(PORT), the number of processes (WEB_CONCURRENCY, read by gunicorn itself) and
the addresses allowed to set X-Forwarded-* (FORWARDED_ALLOW_IPS, likewise).
"""

import os

# All interfaces: inside a container, the port is published by compose (docs/security.md).
bind = f"{os.environ.get('BIND_HOST', '0.0.0.0')}:{os.environ.get('PORT', '8000')}"  # noqa: S104 # nosec B104
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
# Load the app once, before forking: a half-configured installation is refused
# here, once, with its message (tvargrupp/startup.py), and workers share memory.
preload_app = True
timeout = 30
graceful_timeout = 30
keepalive = 5
# Recycle each process now and then, so a slow leak never grows unbounded.
max_requests = 2000
max_requests_jitter = 200
# Requests are logged by Django (tvargrupp.middleware.RequestLogMiddleware) with
# the request id; gunicorn's own access log would be a second, poorer copy.
accesslog = None
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "INFO").lower()
if os.environ.get("LOG_FORMAT", "json") != "text":  # JSON unless asked for text
    logconfig_dict = {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "json": {
                "()": "pythonjsonlogger.json.JsonFormatter",
                "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s",
                "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
            }
        },
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": "json",
                "stream": "ext://sys.stdout",
            }
        },
        "loggers": {
            "gunicorn.error": {
                "handlers": ["console"],
                "level": loglevel.upper(),
                "propagate": False,
            },
        },
    }
