# gradtrace: the web app and REST API in one small image (CPU-only torch).
FROM python:3.11-slim

# PyPI's default torch wheel for x86_64 bundles CUDA (several GB); the CPU index keeps the image small.
ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    GRADTRACE_FRONTEND_DIR=/app/frontend \
    GRADTRACE_SNIPPET_DB=/data/snippets.sqlite3

RUN useradd --create-home --uid 10001 --shell /usr/sbin/nologin gradtrace \
 && mkdir -p /data && chown gradtrace:gradtrace /data

WORKDIR /app
RUN pip install --index-url "$TORCH_INDEX_URL" torch==2.13.0
COPY pyproject.toml setup.py README.md ./
COPY backend ./backend
COPY frontend ./frontend
RUN pip install ".[services]" && rm -rf /root/.cache

USER gradtrace
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=4s --start-period=30s --retries=3 \
  CMD ["python", "-c", "import sys, urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/api/v1/health', timeout=3).status == 200 else 1)"]
CMD ["gradtrace", "serve", "--host", "0.0.0.0", "--port", "8000"]
