# syntax=docker/dockerfile:1

# Build stage: install the package and its dependencies into a virtualenv,
# so the final image gets them without pip's build leftovers.
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
WORKDIR /src
COPY pyproject.toml README.md ./
COPY operator/ operator/
RUN /opt/venv/bin/pip install .

# The same base image, so the virtualenv's interpreter link stays valid.
FROM python:3.11-slim
COPY --from=build /opt/venv /opt/venv
# HOME points at /tmp, the only writable path when the root filesystem is
# read-only (the chart mounts an emptyDir there).
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HOME=/tmp
# A numeric user, so the kubelet can check runAsNonRoot without a passwd entry.
USER 65532:65532
ENTRYPOINT ["acr-operator"]
CMD ["run"]
