# One image for every smsfleet app; the command picks the app (docker-compose.yml, deploy/k8s/).
# Three stages: production dependencies, the build (with dev dependencies), and a small runtime that
# holds only dist/, production node_modules and the alias loader, running as the unprivileged "node" user.
ARG NODE_IMAGE=node:20.20-bookworm-slim

FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# argon2 and msgpackr-extract load prebuilt binaries: no compiler, no install scripts needed.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY apps ./apps
COPY libs ./libs
COPY tools ./tools
COPY scripts ./scripts
# The apps and operator tools (tsc, tsconfig.build.json: no test/, bench or soak) and the web dashboard (Vite, apps/web → dist/web, which the api serves at /).
RUN npm run build:image

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    NODE_OPTIONS=--enable-source-maps
WORKDIR /app
COPY --from=deps --chown=root:root /app/node_modules ./node_modules
COPY --from=build --chown=root:root /app/dist ./dist
COPY --chown=root:root package.json ./
COPY --chown=root:root scripts ./scripts
# Code owned by root and read-only for the app user; the app writes nothing but stdout, except images
# sent with addsms when the local storage driver is used (UPLOAD_DIR, a volume in compose).
RUN mkdir -p /var/lib/smsfleet/uploads && chown node:node /var/lib/smsfleet/uploads
USER node
EXPOSE 3000 3001 3002 3003
STOPSIGNAL SIGTERM
# Overridden per service: dist/apps/<app>/src/main.js, or dist/tools/migrate.js (tools/cli.js for the CLI)
CMD ["node", "-r", "./scripts/register-aliases.js", "dist/apps/api/src/main.js"]
