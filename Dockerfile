# The ina image: one image for every node (switch or host) and for the coordinator; what a
# container is follows from its command (`ina node ...` or `ina up ...`).
FROM node:20-slim

# iproute2 gives `ip` (containerlab's exec adds link addresses with it) and `tc` (kernel
# link shaping, `ina node --shaping kernel`).
RUN apt-get update \
 && apt-get install -y --no-install-recommends iproute2 \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /ina

# Manifests first so the dependency layer is cached across source edits. tsx is a runtime
# dependency (no build step), so the dev dependencies (tests, type checking) stay out.
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund

COPY . .

ENTRYPOINT ["node", "bin/ina.js"]
