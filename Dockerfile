# syntax=docker/dockerfile:1
# Tvärgrupp: one image for the web server, the Celery worker and beat.
# Build: docker compose build (or docker build -t tvargrupp .)

# --- build: the locked runtime dependencies in a virtual environment ----------
FROM python:3.11-slim-bookworm AS build
ENV UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/app/.venv PIP_DISABLE_PIP_VERSION_CHECK=1
RUN pip install --no-cache-dir "uv==0.13.9"
WORKDIR /app
COPY pyproject.toml uv.lock ./
# --no-dev: no test tools, linters or auditors in the image.
RUN uv sync --frozen --no-dev --no-install-project

# --- runtime: the app, WeasyPrint's libraries and the PDF fonts, no compilers ---
FROM python:3.11-slim-bookworm AS runtime
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 \
        fonts-dejavu-core fonts-symbola \
    && rm -rf /var/lib/apt/lists/*
RUN useradd --create-home --uid 10001 --user-group tvargrupp
WORKDIR /app
COPY --from=build /app/.venv /app/.venv
COPY --chown=root:root . /app
ENV PATH="/app/.venv/bin:$PATH" \
    PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1 \
    DJANGO_SETTINGS_MODULE=tvargrupp.settings \
    VAR_DIR=/app/var
# Static files are collected once, here, into the image (hashed names, compressed).
# Settings refuse to load with DEBUG off unless these are set; nothing is connected to.
RUN DEBUG=false \
    SECRET_KEY=collectstatic-at-build-time-only-not-used-to-sign-anything-0123456789 \
    ALLOWED_HOSTS=build DATABASE_URL=postgres://build/build REDIS_URL=redis://build:6379/0 \
    python manage.py collectstatic --no-input --verbosity 0 \
    && mkdir -p /app/var/media /app/var/beat \
    && chown -R tvargrupp:tvargrupp /app/var/media /app/var/beat
USER tvargrupp
EXPOSE 8000
# The same commands docker-compose.yml gives each service; web is the default.
CMD ["gunicorn", "tvargrupp.wsgi"]
