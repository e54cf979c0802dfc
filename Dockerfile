# The image of the api, worker, beat and migrate services of docker-compose.yml.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /srv
COPY setup.cfg pyproject.toml README.md ./
COPY app ./app
COPY workers ./workers
# Editable, so `app` is imported from /srv and finds /srv/migrations beside it.
RUN pip install --editable .
COPY migrations ./migrations
COPY wsgi.py gunicorn.conf.py ./

RUN useradd --system --uid 10001 --no-create-home openwearables
USER openwearables

EXPOSE 8000
CMD ["gunicorn", "--config", "gunicorn.conf.py", "wsgi:app"]
