# bridge: production image. Build: docker build -t bridge .
# First run:  docker run --rm -v bridge-home:/data bridge init --home /data
# Then:       docker run -p 5000:5000 -v bridge-home:/data bridge
FROM python:3.11-slim

RUN apt-get update \
    && apt-get install --no-install-recommends -y xmlsec1 libxmlsec1-openssl \
    && rm -rf /var/lib/apt/lists/*

RUN useradd --create-home --uid 10001 bridge
WORKDIR /app
COPY pyproject.toml README.md ./
COPY bridge ./bridge
COPY idp_metadata ./idp_metadata
RUN pip install --no-cache-dir .

RUN mkdir -p /data && chown bridge:bridge /data && chmod 700 /data
USER bridge
ENV BRIDGE_HOME=/data BRIDGE_IDP_METADATA_DIR=/app/idp_metadata
VOLUME ["/data"]
EXPOSE 5000
ENTRYPOINT ["bridge"]
CMD ["serve", "--home", "/data", "--host", "0.0.0.0", "--port", "5000", "--workers", "2"]
