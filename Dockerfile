# plenary server image: Python slim + the system libraries WeasyPrint needs and
# fonts that cover Vietnamese. Build: docker build -t plenary .
FROM python:3.11-slim-bookworm

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PLENARY_HOST=0.0.0.0 \
    PLENARY_PORT=8080 \
    PLENARY_DATABASE_URL=sqlite+aiosqlite:////data/plenary.db

RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 \
        fonts-noto-core fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*

RUN useradd --system --create-home --home-dir /home/plenary plenary \
    && mkdir -p /data && chown plenary /data

WORKDIR /app
COPY pyproject.toml README.md ./
COPY server ./server
COPY client ./client
COPY cli ./cli
COPY conference_file ./conference_file
COPY runtime ./runtime
COPY conference ./conference
COPY attendance ./attendance
COPY agenda ./agenda
COPY awards ./awards
COPY web ./web
RUN pip install .

USER plenary
VOLUME ["/data"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s CMD python -c "import urllib.request,sys; urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=4)" || exit 1
# Migrate, then serve (serve refuses a stale schema).
CMD ["sh", "-c", "plenary migrate && exec plenary serve"]
