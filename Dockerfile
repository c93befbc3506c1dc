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
CMD ["gunicorn", "config.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-", "--logger-class", "config.gunicorn_logging.MaskingLogger"]
