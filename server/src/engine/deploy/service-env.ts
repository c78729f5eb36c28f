// The run-time environment of a service (never baked into images): detected and kyozo.yaml values,
// the port variable, and for each dependency the address variables it expects; databases get
// credentials generated once and kept in the state folder outside the repository.
import type { Service, Topology } from '../../protocol';
import type { StateStore } from './state-store';

type DbKind = 'postgres' | 'mysql' | 'mongo' | 'redis' | 'amqp' | 'kafka' | 'nats';

export function dataKind(service: Service): DbKind | undefined {
  const text = `${service.image ?? ''} ${service.name}`.toLowerCase();
  if (/postgres|cockroach|timescale/.test(text)) return 'postgres';
  if (/mysql|mariadb/.test(text)) return 'mysql';
  if (/mongo/.test(text)) return 'mongo';
  if (/redis|valkey|keydb/.test(text)) return 'redis';
  if (/rabbitmq/.test(text)) return 'amqp';
  if (/kafka|redpanda/.test(text)) return 'kafka';
  if (/nats/.test(text)) return 'nats';
  return undefined;
}

const DEFAULT_PORTS: Record<DbKind, number> = {
  postgres: 5432,
  mysql: 3306,
  mongo: 27017,
  redis: 6379,
  amqp: 5672,
  kafka: 9092,
  nats: 4222,
};

function envName(name: string): string {
  return name.toUpperCase().replace(/[^A-Z0-9]+/g, '_');
}

/** Address of `dep` as seen from another container of the workspace network. */
export function dependencyUrl(dep: Service, store: StateStore): { url: string; standard?: string } {
  const kind = dataKind(dep);
  const port = dep.ports[0]?.container ?? (kind ? DEFAULT_PORTS[kind] : 80);
  if (kind === 'postgres' || kind === 'mysql' || kind === 'mongo') {
    const c = store.credentials(dep.id, dep.name);
    const scheme = kind === 'postgres' ? 'postgres' : kind === 'mysql' ? 'mysql' : 'mongodb';
    const suffix = kind === 'mongo' ? '?authSource=admin' : '';
    return {
      url: `${scheme}://${c.user}:${encodeURIComponent(c.password)}@${dep.name}:${port}/${c.database}${suffix}`,
      standard: 'DATABASE_URL',
    };
  }
  if (kind === 'redis') return { url: `redis://${dep.name}:${port}`, standard: 'REDIS_URL' };
  if (kind === 'amqp') return { url: `amqp://guest:guest@${dep.name}:${port}`, standard: 'AMQP_URL' };
  if (kind === 'kafka') return { url: `${dep.name}:${port}`, standard: 'KAFKA_BROKERS' };
  if (kind === 'nats') return { url: `nats://${dep.name}:${port}`, standard: 'NATS_URL' };
  return { url: `http://${dep.name}:${port}` };
}

/** Variables a database image needs to initialise with the generated credentials. */
function ownCredentials(service: Service, store: StateStore): Record<string, string> {
  const kind = dataKind(service);
  if (service.type !== 'database' && kind !== 'postgres' && kind !== 'mysql' && kind !== 'mongo') return {};
  if (kind !== 'postgres' && kind !== 'mysql' && kind !== 'mongo') return {};
  const c = store.credentials(service.id, service.name);
  if (kind === 'postgres') return { POSTGRES_USER: c.user, POSTGRES_PASSWORD: c.password, POSTGRES_DB: c.database };
  if (kind === 'mysql') {
    return {
      MYSQL_USER: c.user,
      MYSQL_PASSWORD: c.password,
      MYSQL_DATABASE: c.database,
      MYSQL_ROOT_PASSWORD: c.password,
      MARIADB_USER: c.user,
      MARIADB_PASSWORD: c.password,
      MARIADB_DATABASE: c.database,
      MARIADB_ROOT_PASSWORD: c.password,
    };
  }
  return {
    MONGO_INITDB_ROOT_USERNAME: c.user,
    MONGO_INITDB_ROOT_PASSWORD: c.password,
    MONGO_INITDB_DATABASE: c.database,
  };
}

export function serviceEnvironment(topology: Topology, service: Service, store: StateStore): Record<string, string> {
  const env: Record<string, string> = { ...ownCredentials(service, store) };
  for (const p of service.ports) if (p.envVar) env[p.envVar] = String(p.container);
  for (const edge of topology.edges) {
    if (edge.from !== service.id) continue;
    const dep = topology.services.find((s) => s.id === edge.to);
    if (!dep) continue;
    const { url, standard } = dependencyUrl(dep, store);
    env[`${envName(dep.name)}_URL`] ??= url;
    if (standard) env[standard] ??= url;
    if (edge.envVar && !service.env.some((e) => e.name === edge.envVar && e.value !== undefined))
      env[edge.envVar] = url;
  }
  // Values written down (compose environment, .env, kyozo.yaml) win over derived ones.
  for (const e of service.env) if (e.value !== undefined) env[e.name] = e.value;
  return env;
}
