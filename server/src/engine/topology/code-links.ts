// Dependencies only the code names: an address variable whose name names a service (`CART_SERVICE_ADDR` →
// cartservice), a generated gRPC client of a proto service another service serves, and a queue, topic, channel or
// Celery task one service sends to and another receives from. What cannot be tied to exactly one service becomes a
// recommendation naming the variable and the candidates, never a guessed edge.
import type { CodeFacts } from '../code/code-facts';
import { GRPC_HEALTH } from '../code/code-facts';
import { editDistance } from '../detect/service-names';
import type { ServiceFacts } from './assemble';

type Topic = CodeFacts['topics'][number];
type GrpcUse = CodeFacts['grpc'][number];

/** Lower case, letters and digits only: `Product-Catalog_Service` → productcatalogservice. */
export function nameKey(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9]/g, '');
}

/** The key without a trailing service / svc / api: productcatalogservice → productcatalog. */
export function nameStem(key: string): string {
  return key.replace(/(?:service|svc|api)$/, '');
}

// `<NAME>_SERVICE_ADDR`, `<NAME>_ADDR`, `<NAME>_HOST`, `<NAME>_URL`, ...: the part before the suffix names the service.
const addressName = new RegExp(
  '^([A-Za-z0-9_]+?)_(?:SERVICE_|SVC_)?' +
    '(?:URL|URI|DSN|HOSTS?|HOSTNAME|ADDR|ADDRESS|ENDPOINT|BASE_URL|API_URL|BROKERS?|SERVERS?)$',
);
// Addresses a service keeps for itself or for the outside world, not for another service of the tree.
const ownAddress = new RegExp(
  '^(?:LISTEN|BIND|HTTP|HTTPS|GRPC|SERVER|PUBLIC|BASE|APP|SITE|METRICS|ADMIN|HEALTH|' +
    'HOST|WEB|CALLBACK|REDIRECT|FRONTEND_PUBLIC)$',
);
// Names of data stores and brokers: the driver links and `missing-database` speak for those.
const storeWords = new RegExp(
  '^(?:db|database|postgres|postgresql|pg|mysql|mariadb|mongo|mongodb|redis|cache|' +
    'memcached|kafka|rabbitmq|rabbit|amqp|mq|broker|nats|elasticsearch|elastic|es|sql|sqlserver|mssql|celery|queue)$',
);

/** The service part of an address variable's name (`CART_SERVICE_ADDR` → CART), if it is an address at all. */
export function addressPrefix(envVar: string): string | undefined {
  return addressName.exec(envVar)?.[1];
}

/** `LISTEN_ADDR`, `PUBLIC_URL`, `ADMIN_URL`: a service's own address, unless a service has exactly that name. */
export function isOwnAddress(prefix: string): boolean {
  return ownAddress.test(prefix.toUpperCase());
}

/** Whether a name says outright that it holds another service's address (`*_SERVICE_ADDR`, `*_SVC_HOST`). */
export function namesAService(envVar: string): boolean {
  return /_(?:SERVICE|SVC)_(?:ADDR|ADDRESS|HOST|URL|URI|ENDPOINT)$/.test(envVar);
}

export function isStoreName(prefix: string): boolean {
  return storeWords.test(nameStem(nameKey(prefix)) || nameKey(prefix));
}

interface At {
  s: ServiceFacts;
  file: string;
}

export interface CodeIndex {
  /** Services by the key of every name they answer to. */
  byKey: Map<string, ServiceFacts[]>;
  /** Services by the stem of those keys (suffix service/svc/api dropped), when the stem is not empty. */
  byStem: Map<string, ServiceFacts[]>;
  /** Who serves each gRPC service, by lower-cased proto name. */
  grpcServers: Map<string, (At & { use: GrpcUse })[]>;
  /** Who receives from each queue, topic, channel or task, by `system name`. */
  consumers: Map<string, (At & { topic: Topic })[]>;
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) {
    if (!list.includes(value)) list.push(value);
  } else map.set(key, [value]);
}

/** The proto service's own name, without its package (`hipstershop.CartService` → cartservice). */
export function grpcKey(service: string): string {
  return service === GRPC_HEALTH ? service : service.slice(service.lastIndexOf('.') + 1).toLowerCase();
}

/** A Celery task without an explicit name is `<module>.<function>`, the module being the file's dotted path. */
export function topicName(s: ServiceFacts, file: string, topic: Topic): string {
  if (!topic.inModule) return topic.name;
  const folder = s.service.folder === '.' ? '' : `${s.service.folder}/`;
  const module = (file.startsWith(folder) ? file.slice(folder.length) : file)
    .replace(/\.py$/, '')
    .replace(/^src\//, '')
    .replace(/\/__init__$/, '')
    .replace(/\//g, '.');
  return `${module}.${topic.name}`;
}

export function topicKey(s: ServiceFacts, file: string, topic: Topic): string {
  return `${topic.system} ${topicName(s, file, topic)}`;
}

export function codeIndex(services: ServiceFacts[]): CodeIndex {
  const index: CodeIndex = { byKey: new Map(), byStem: new Map(), grpcServers: new Map(), consumers: new Map() };
  for (const s of services) {
    for (const host of s.hostNames) {
      const key = nameKey(host);
      if (!key) continue;
      push(index.byKey, key, s);
      const stem = nameStem(key);
      if (stem) push(index.byStem, stem, s);
    }
    for (const { file, facts } of s.code) {
      for (const use of facts.grpc ?? []) {
        if (use.role !== 'server' || use.service === GRPC_HEALTH) continue;
        push(index.grpcServers, grpcKey(use.service), { s, file, use });
      }
      for (const topic of facts.topics ?? []) {
        if (topic.role === 'consume') push(index.consumers, topicKey(s, file, topic), { s, file, topic });
      }
    }
  }
  return index;
}

/**
 * The services an address variable's prefix names: those whose name is the prefix (`USERS` → users), else those
 * whose name shares its stem (`PRODUCT_CATALOG_SERVICE` → productcatalogservice, `CART` → cart-api).
 */
export function servicesNamed(
  prefix: string,
  index: CodeIndex,
  self: ServiceFacts,
): { services: ServiceFacts[]; exact: boolean } {
  const key = nameKey(prefix);
  const exact = (index.byKey.get(key) ?? []).filter((s) => s !== self);
  if (exact.length) return { services: exact, exact: true };
  if (isOwnAddress(prefix)) return { services: [], exact: false };
  const stem = nameStem(key);
  return { services: stem ? (index.byStem.get(stem) ?? []).filter((s) => s !== self) : [], exact: false };
}

/** Services whose names look like the prefix (one contains the other, or a few letters apart), closest first. */
export function candidatesFor(prefix: string, services: ServiceFacts[], self: ServiceFacts): string[] {
  const stem = nameStem(nameKey(prefix)) || nameKey(prefix);
  const scored: { name: string; score: number }[] = [];
  for (const s of services) {
    if (s === self) continue;
    const other = nameStem(nameKey(s.service.name)) || nameKey(s.service.name);
    if (!other || !stem) continue;
    const distance = editDistance(stem, other);
    const contains = stem.length >= 3 && other.length >= 3 && (other.includes(stem) || stem.includes(other));
    if (contains || distance <= Math.max(1, Math.floor(Math.min(stem.length, other.length) / 4))) {
      scored.push({ name: s.service.name, score: contains ? distance / 2 : distance });
    }
  }
  return scored
    .sort((a, b) => a.score - b.score || (a.name < b.name ? -1 : 1))
    .slice(0, 4)
    .map((x) => x.name);
}
