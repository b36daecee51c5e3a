# syntax=docker/dockerfile:1
# agent-identity-operator image: `make docker-build IMG=<repository>:<tag>`.
# Stage 1 compiles TypeScript and keeps only production dependencies; stage 2 is a distroless
# Node.js runtime (no shell, no package manager) running as a non-root user.

ARG NODE_IMAGE=node:22-bookworm-slim
ARG RUNTIME_IMAGE=gcr.io/distroless/nodejs22-debian12:nonroot

FROM ${NODE_IMAGE} AS build
WORKDIR /src
# Dependencies first, so a source change does not re-install them.
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build \
 && npm prune --omit=dev --no-audit --no-fund \
 && node dist/main.js --help >/dev/null

FROM ${RUNTIME_IMAGE}
LABEL org.opencontainers.image.title="agent-identity-operator" \
      org.opencontainers.image.description="Gives every AI agent its own OAuth identity" \
      org.opencontainers.image.licenses="Apache-2.0"
WORKDIR /app
ENV NODE_ENV=production
# Heap bounds sized for the default memory limit (chart: operator.heap; config/manager): without
# them V8 lets collectable garbage grow the old generation to several hundred MiB before a full
# collection (10,000 AgentClients: ~75 MiB live heap, ~480 MiB RSS unbounded). The dev stack and
# the benchmark read this line and run the operator with exactly these flags.
ENV NODE_OPTIONS="--max-old-space-size=128 --max-semi-space-size=4"
COPY --from=build /src/package.json ./package.json
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
# 65532 is distroless' "nonroot"; the Helm chart and config/manager run the pod as this user.
USER 65532:65532
EXPOSE 8080 8081
# Distroless puts Node at /nodejs/bin/node (its own entrypoint); named in full, nothing relies on PATH.
ENTRYPOINT ["/nodejs/bin/node", "dist/main.js"]
