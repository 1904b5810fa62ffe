# The code location as a container: a gRPC code server that the Dagster webserver and
# daemon load the `oneconnect` location from, and the image run workers start from
# (docs/deployment.md). Not built in CI here (no container runtime on these machines).
FROM python:3.11-slim

WORKDIR /opt/oneconnect
COPY pyproject.toml README.md ./
COPY oneconnect_pipelines ./oneconnect_pipelines
COPY assets ./assets
# the package with its runtime dependencies only (dagster-postgres, the PostgreSQL
# warehouse driver, s3fs and gcsfs for object-store folders; no simulator, no test tools)
RUN pip install --no-cache-dir ".[s3,gcs]" && useradd --uid 10001 --create-home oneconnect \
    && install -d -o oneconnect -g oneconnect /opt/dagster/home

# the instance every process of the deployment shares (storage in PostgreSQL); the folder
# belongs to the user the processes run as, who writes compute logs and local state there
ENV DAGSTER_HOME=/opt/dagster/home
COPY --chown=oneconnect:oneconnect deploy/dagster.yaml /opt/dagster/home/dagster.yaml

USER oneconnect
EXPOSE 4000
CMD ["dagster", "api", "grpc", "-m", "assets.definitions", "-h", "0.0.0.0", "-p", "4000", \
     "--location-name", "oneconnect"]
