// What the ecosystems' package names mean: frameworks (with their conventional port), data-store drivers,
// worker libraries and well-known images. One table per question, so adding a framework is one line.
import type { ServiceType } from '../../protocol';
import type { DataEngine } from './types';

export interface FrameworkInfo {
  name: string;
  port?: number;
  /** ui: serves a browser app; api: serves HTTP for programs; full: both. */
  role: 'api' | 'ui' | 'full';
}

export const NODE_FRAMEWORKS: Record<string, FrameworkInfo> = {
  next: { name: 'next', port: 3000, role: 'full' },
  nuxt: { name: 'nuxt', port: 3000, role: 'full' },
  '@remix-run/node': { name: 'remix', port: 3000, role: 'full' },
  '@remix-run/serve': { name: 'remix', port: 3000, role: 'full' },
  '@react-router/node': { name: 'react-router', port: 3000, role: 'full' },
  '@react-router/serve': { name: 'react-router', port: 3000, role: 'full' },
  '@tanstack/react-start': { name: 'tanstack-start', port: 3000, role: 'full' },
  '@tanstack/solid-start': { name: 'tanstack-start', port: 3000, role: 'full' },
  '@sveltejs/kit': { name: 'sveltekit', port: 5173, role: 'full' },
  astro: { name: 'astro', port: 4321, role: 'full' },
  '@nestjs/core': { name: 'nestjs', port: 3000, role: 'api' },
  express: { name: 'express', port: 3000, role: 'api' },
  fastify: { name: 'fastify', port: 3000, role: 'api' },
  koa: { name: 'koa', port: 3000, role: 'api' },
  '@hapi/hapi': { name: 'hapi', port: 3000, role: 'api' },
  hono: { name: 'hono', port: 3000, role: 'api' },
  'socket.io': { name: 'socket.io', port: 3000, role: 'api' },
  ws: { name: 'ws', role: 'api' },
};
/** Frameworks that win over others in the same package (a Next app that also depends on express is Next). */
export const NODE_FRAMEWORK_PRIORITY = [
  'next',
  'nuxt',
  'remix',
  'react-router',
  'tanstack-start',
  'sveltekit',
  'astro',
  'nestjs',
  'fastify',
  'koa',
  'hapi',
  'hono',
  'express',
  'socket.io',
  'ws',
];
export const NODE_SPA_LIBS = ['react', 'vue', 'svelte', 'solid-js', 'preact', 'lit'];

export const PYTHON_FRAMEWORKS: Record<string, FrameworkInfo> = {
  django: { name: 'django', port: 8000, role: 'full' },
  flask: { name: 'flask', port: 5000, role: 'api' },
  fastapi: { name: 'fastapi', port: 8000, role: 'api' },
  starlette: { name: 'starlette', port: 8000, role: 'api' },
  streamlit: { name: 'streamlit', port: 8501, role: 'ui' },
  aiohttp: { name: 'aiohttp', port: 8080, role: 'api' },
  tornado: { name: 'tornado', port: 8888, role: 'api' },
  sanic: { name: 'sanic', port: 8000, role: 'api' },
  gradio: { name: 'gradio', port: 7860, role: 'ui' },
};
export const PYTHON_FRAMEWORK_PRIORITY = [
  'django',
  'fastapi',
  'flask',
  'streamlit',
  'gradio',
  'sanic',
  'starlette',
  'aiohttp',
  'tornado',
];

export const GO_FRAMEWORKS: Record<string, FrameworkInfo> = {
  'github.com/gin-gonic/gin': { name: 'gin', port: 8080, role: 'api' },
  'github.com/labstack/echo/v4': { name: 'echo', port: 1323, role: 'api' },
  'github.com/labstack/echo': { name: 'echo', port: 1323, role: 'api' },
  'github.com/gofiber/fiber/v2': { name: 'fiber', port: 3000, role: 'api' },
  'github.com/gofiber/fiber/v3': { name: 'fiber', port: 3000, role: 'api' },
  'github.com/go-chi/chi/v5': { name: 'chi', port: 8080, role: 'api' },
  'github.com/go-chi/chi': { name: 'chi', port: 8080, role: 'api' },
  'github.com/gorilla/mux': { name: 'gorilla', port: 8080, role: 'api' },
};

export const RUST_FRAMEWORKS: Record<string, FrameworkInfo> = {
  'actix-web': { name: 'actix', port: 8080, role: 'api' },
  axum: { name: 'axum', port: 3000, role: 'api' },
  rocket: { name: 'rocket', port: 8000, role: 'api' },
  warp: { name: 'warp', port: 3030, role: 'api' },
  poem: { name: 'poem', port: 3000, role: 'api' },
  tide: { name: 'tide', port: 8080, role: 'api' },
};

/** Libraries whose presence (without an HTTP framework) marks a background worker. */
export const WORKER_LIBS: Record<string, string> = {
  bull: 'bull',
  bullmq: 'bullmq',
  'bee-queue': 'bee-queue',
  agenda: 'agenda',
  'node-cron': 'node-cron',
  'graphile-worker': 'graphile-worker',
  celery: 'celery',
  rq: 'rq',
  dramatiq: 'dramatiq',
  huey: 'huey',
  arq: 'arq',
  apscheduler: 'apscheduler',
  sidekiq: 'sidekiq',
  resque: 'resque',
  good_job: 'good_job',
};

/** Client libraries → the data store they talk to. Keys are lower-case package names per ecosystem. */
export const DRIVERS: Record<string, DataEngine> = {
  // node
  pg: 'postgres',
  postgres: 'postgres',
  'pg-promise': 'postgres',
  '@neondatabase/serverless': 'postgres',
  slonik: 'postgres',
  mysql: 'mysql',
  mysql2: 'mysql',
  mariadb: 'mysql',
  mongoose: 'mongo',
  mongodb: 'mongo',
  redis: 'redis',
  ioredis: 'redis',
  '@redis/client': 'redis',
  bull: 'redis',
  bullmq: 'redis',
  'bee-queue': 'redis',
  amqplib: 'rabbitmq',
  'amqp-connection-manager': 'rabbitmq',
  kafkajs: 'kafka',
  nats: 'nats',
  '@elastic/elasticsearch': 'elasticsearch',
  memjs: 'memcached',
  // python
  psycopg: 'postgres',
  psycopg2: 'postgres',
  'psycopg2-binary': 'postgres',
  'psycopg-binary': 'postgres',
  asyncpg: 'postgres',
  pg8000: 'postgres',
  pymysql: 'mysql',
  mysqlclient: 'mysql',
  'mysql-connector-python': 'mysql',
  aiomysql: 'mysql',
  pymongo: 'mongo',
  motor: 'mongo',
  mongoengine: 'mongo',
  aioredis: 'redis',
  rq: 'redis',
  'redis-py': 'redis',
  pika: 'rabbitmq',
  'aio-pika': 'rabbitmq',
  kombu: 'rabbitmq',
  'kafka-python': 'kafka',
  'confluent-kafka': 'kafka',
  aiokafka: 'kafka',
  elasticsearch: 'elasticsearch',
  pymemcache: 'memcached',
  'nats-py': 'nats',
  // go
  'github.com/lib/pq': 'postgres',
  'github.com/jackc/pgx/v5': 'postgres',
  'github.com/jackc/pgx/v4': 'postgres',
  'gorm.io/driver/postgres': 'postgres',
  'github.com/go-sql-driver/mysql': 'mysql',
  'gorm.io/driver/mysql': 'mysql',
  'go.mongodb.org/mongo-driver': 'mongo',
  'go.mongodb.org/mongo-driver/v2': 'mongo',
  'github.com/redis/go-redis/v9': 'redis',
  'github.com/go-redis/redis/v8': 'redis',
  'github.com/go-redis/redis': 'redis',
  'github.com/gomodule/redigo': 'redis',
  'github.com/rabbitmq/amqp091-go': 'rabbitmq',
  'github.com/streadway/amqp': 'rabbitmq',
  'github.com/segmentio/kafka-go': 'kafka',
  'github.com/ibm/sarama': 'kafka',
  'github.com/shopify/sarama': 'kafka',
  'github.com/nats-io/nats.go': 'nats',
  'github.com/elastic/go-elasticsearch/v8': 'elasticsearch',
  // rust
  'tokio-postgres': 'postgres',
  'deadpool-postgres': 'postgres',
  mysql_async: 'mysql',
  'deadpool-redis': 'redis',
  lapin: 'rabbitmq',
  rdkafka: 'kafka',
  // java (artifact ids)
  postgresql: 'postgres',
  'mysql-connector-java': 'mysql',
  'mysql-connector-j': 'mysql',
  'spring-boot-starter-data-mongodb': 'mongo',
  'spring-boot-starter-data-redis': 'redis',
  jedis: 'redis',
  lettuce: 'redis',
  'lettuce-core': 'redis',
  'spring-boot-starter-amqp': 'rabbitmq',
  'spring-kafka': 'kafka',
  // ruby
  pg_ruby: 'postgres',
  mysql2_ruby: 'mysql',
  mongoid: 'mongo',
  bunny: 'rabbitmq',
  sidekiq: 'redis',
  // php
  'ext-pdo_pgsql': 'postgres',
  'ext-pgsql': 'postgres',
  'ext-pdo_mysql': 'mysql',
  'predis/predis': 'redis',
  'ext-redis': 'redis',
  'php-amqplib/php-amqplib': 'rabbitmq',
  'mongodb/mongodb': 'mongo',
  // elixir (mix deps; ecto_sql only names the engine through its adapter)
  postgrex: 'postgres',
  myxql: 'mysql',
  redix: 'redis',
  amqp: 'rabbitmq',
  broadway_kafka: 'kafka',
  gnat: 'nats',
  // .NET (lower-cased package ids)
  npgsql: 'postgres',
  'npgsql.entityframeworkcore.postgresql': 'postgres',
  'mysql.data': 'mysql',
  mysqlconnector: 'mysql',
  'pomelo.entityframeworkcore.mysql': 'mysql',
  'mongodb.driver': 'mongo',
  'stackexchange.redis': 'redis',
  'rabbitmq.client': 'rabbitmq',
  'confluent.kafka': 'kafka',
};

/** Driver packages that mean a data store only through a feature flag (sqlx, diesel) are resolved by their detectors. */
export function driverFor(name: string): DataEngine | undefined {
  return DRIVERS[name.toLowerCase()];
}

export interface ImageInfo {
  type: ServiceType;
  engine?: DataEngine;
  port?: number;
  healthPath?: string;
}

const IMAGES: [RegExp, ImageInfo][] = [
  [
    /^(postgres|postgis\/postgis|timescale\/timescaledb\S*|bitnami\/postgresql|supabase\/postgres|cockroachdb\/cockroach)$/,
    { type: 'database', engine: 'postgres', port: 5432 },
  ],
  [/^(mysql|mariadb|percona|bitnami\/mysql|bitnami\/mariadb)$/, { type: 'database', engine: 'mysql', port: 3306 }],
  [/^(mongo|bitnami\/mongodb|mongodb\/mongodb-community-server)$/, { type: 'database', engine: 'mongo', port: 27017 }],
  [
    /^(redis|valkey\/valkey|eqalpha\/keydb|bitnami\/redis|redis\/redis-stack(-server)?)$/,
    { type: 'cache', engine: 'redis', port: 6379 },
  ],
  [/^(memcached|bitnami\/memcached)$/, { type: 'cache', engine: 'memcached', port: 11211 }],
  [/^(rabbitmq|bitnami\/rabbitmq)$/, { type: 'queue', engine: 'rabbitmq', port: 5672 }],
  [
    /^(bitnami\/kafka|confluentinc\/cp-kafka|apache\/kafka|wurstmeister\/kafka|redpandadata\/redpanda|vectorized\/redpanda)$/,
    { type: 'queue', engine: 'kafka', port: 9092 },
  ],
  [/^(nats)$/, { type: 'queue', engine: 'nats', port: 4222 }],
  [
    /^(elasticsearch|docker\.elastic\.co\/elasticsearch\/elasticsearch|opensearchproject\/opensearch|bitnami\/elasticsearch)$/,
    { type: 'database', engine: 'elasticsearch', port: 9200 },
  ],
  [/^(minio\/minio|bitnami\/minio)$/, { type: 'database', port: 9000 }],
  [/^(nginx|nginxinc\/nginx-unprivileged|caddy|traefik|haproxy|envoyproxy\/envoy)$/, { type: 'proxy', port: 80 }],
  [/^(zookeeper|bitnami\/zookeeper|confluentinc\/cp-zookeeper)$/, { type: 'infrastructure', port: 2181 }],
];

/** Strips registry host (when it has a dot or port), tag and digest: `docker.io/library/postgres:16` → `postgres`. */
export function imageRepository(image: string): string {
  let s = image.trim().toLowerCase();
  s = s.split('@')[0];
  const slash = s.lastIndexOf('/');
  const colon = s.lastIndexOf(':');
  if (colon > slash) s = s.slice(0, colon);
  s = s.replace(/^(docker\.io\/)?(library\/)?/, '');
  const parts = s.split('/');
  if (parts.length > 1 && /[.:]/.test(parts[0]) && !s.startsWith('docker.elastic.co')) s = parts.slice(1).join('/');
  return s;
}

export function imageInfo(image: string): ImageInfo | undefined {
  const repo = imageRepository(image);
  for (const [re, info] of IMAGES) if (re.test(repo)) return info;
  return undefined;
}

/** Language a base image implies, for Dockerfile-only folders (`FROM python:3.12` → python). */
export function languageOfImage(image: string): string | undefined {
  const repo = imageRepository(image);
  const m =
    /^(node|python|golang|rust|openjdk|eclipse-temurin|amazoncorretto|maven|gradle|php|ruby|mcr\.microsoft\.com\/dotnet\/\S+|dotnet)/.exec(
      repo,
    );
  if (!m) return undefined;
  const map: Record<string, string> = {
    node: 'javascript',
    python: 'python',
    golang: 'go',
    rust: 'rust',
    php: 'php',
    ruby: 'ruby',
  };
  return map[m[1]] ?? (/dotnet/.test(m[1]) ? 'csharp' : 'java');
}
