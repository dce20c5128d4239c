# The kosodate API for real deployments (see docker-compose.yml). The database is external here.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY pyproject.toml README.md alembic.ini ./
COPY geo ./geo
COPY ingest ./ingest
COPY search ./search
COPY api ./api
COPY kosodate ./kosodate
COPY migrations ./migrations
RUN pip install --no-cache-dir . && useradd --system --uid 10001 kosodate
USER kosodate
EXPOSE 8000
CMD ["sh", "-c", "kosodate db migrate && kosodate serve --host 0.0.0.0 --port 8000"]
