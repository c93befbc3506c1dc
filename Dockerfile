# The production image behind docker-compose.yml: web, worker and beat run the same code.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 ACCORD_VAR_DIR=/var/lib/accord
WORKDIR /app

RUN useradd --system --create-home --home-dir /home/accord accord \
    && mkdir -p /var/lib/accord && chown accord /var/lib/accord

COPY pyproject.toml ./
RUN pip install --upgrade pip && pip install .
COPY . .
RUN SECRET_KEY=build-only DEBUG=false python manage.py compile_translations \
    && SECRET_KEY=build-only DEBUG=false python manage.py collectstatic --noinput --verbosity 0

USER accord
EXPOSE 8000
# gunicorn's knobs come from the environment (README, "Environment"); exec keeps gunicorn as PID 1 for signals.
ENV WEB_CONCURRENCY=3 GUNICORN_TIMEOUT=30 GUNICORN_MAX_REQUESTS=1000 GUNICORN_MAX_REQUESTS_JITTER=100
CMD ["sh", "-c", "exec gunicorn config.wsgi --bind 0.0.0.0:8000 --workers \"$WEB_CONCURRENCY\" --timeout \"$GUNICORN_TIMEOUT\" --max-requests \"$GUNICORN_MAX_REQUESTS\" --max-requests-jitter \"$GUNICORN_MAX_REQUESTS_JITTER\" --access-logfile - --logger-class config.gunicorn_logging.MaskingLogger"]
