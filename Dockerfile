# Two stages: wheels are built in the first, the runtime image holds no compiler and runs
# as an unprivileged user. Build from the repository as it is: `docker build .`
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY echoserver ./echoserver
COPY mcp ./mcp
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11-slim
RUN useradd --create-home --uid 1000 mcp && mkdir -p /data && chown mcp /data
WORKDIR /app
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels
COPY templates ./templates
COPY manage.py ./
ENV MCP_ECHO_HOST=0.0.0.0 \
    MCP_ECHO_PORT=3000 \
    MCP_DATA_DIR=/data \
    MCP_TEMPLATES_DIR=/app/templates \
    PYTHONUNBUFFERED=1
USER mcp
EXPOSE 3000
# /health on 127.0.0.1 at MCP_ECHO_PORT (read when the check runs, so `-e MCP_ECHO_PORT=...`
# moves it too); 503 while draining or when the session store is unreachable.
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-m", "echoserver.healthcheck"]
STOPSIGNAL SIGTERM
CMD ["mcp-echo-stateful-server"]
