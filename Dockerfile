# One image for the API, the worker and the migrations; docker-compose.yml picks the command.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# Dependencies first: this layer is rebuilt only when their lock changes. Runtime only (no
# embedded servers, no dev tools), every file checked against its pinned hash.
COPY requirements/runtime.txt requirements/
RUN pip install --require-hashes -r requirements/runtime.txt

COPY . .
RUN useradd --system --uid 10001 --no-create-home oms \
    && mkdir /secrets && chown oms /secrets  # a volume mounted here starts owned by oms
USER oms

EXPOSE 8000
CMD ["python", "-m", "uvicorn", "api.main:app", "--host", "0.0.0.0", "--port", "8000"]
