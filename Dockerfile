# One image for every role (ROLE=api | consumer | all); docker-compose.yml picks the role.
FROM node:20-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
# `npm install`, not `npm ci`: chdb's lock file lacks its platform packages (see DESIGN.md).
# Dev dependencies stay out; tsx (a runtime dependency) runs the TypeScript directly.
RUN npm install --omit=dev --no-audit --no-fund && npm cache clean --force
COPY tsconfig.json ./
COPY src ./src
COPY clickhouse ./clickhouse
COPY pipes ./pipes
# DATA_DIR (./data) must be writable by the unprivileged user.
RUN mkdir -p /app/data && chown node:node /app/data
EXPOSE 7181
USER node
# V8's heap limit the service is sized for (src/service/heap-budget.ts); docker run -e
# NODE_OPTIONS=... replaces it.
ENV NODE_OPTIONS=--max-old-space-size=384
# chDB's jemalloc returns freed pages after 1 s instead of its built-in 5 s
# (src/service/chdb-allocator.ts); docker run -e JE_MALLOC_CONF=... replaces it.
ENV JE_MALLOC_CONF=dirty_decay_ms:1000
# node --import tsx, not the tsx CLI: one process, so SIGTERM reaches the service directly.
CMD ["node", "--import", "tsx", "src/main.ts"]
