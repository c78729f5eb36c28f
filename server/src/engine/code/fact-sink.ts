// Accumulates the facts of one file: de-duplicates, validates and caps every list so one odd file cannot grow memory.
import type { Node } from 'web-tree-sitter';
import { emptyFacts, type BrokerSystem, type CodeFacts } from './code-facts';

const maxPerList = 200;
const maxTextLength = 300;
const hostPattern = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/;
const envNamePattern = /^[A-Za-z_][A-Za-z0-9_]*$/;
// A URL literal Kyozo cares about: an address another service or a backing store listens on.
const urlPattern =
  /^(?:https?|wss?|postgres(?:ql)?|mysql|mariadb|redis|rediss|amqps?|mongodb(?:\+srv)?|nats|kafka|grpc|mqtt|sqlserver|mssql|cockroachdb|clickhouse|memcached|jdbc:[a-z0-9]+):\/\/\S+$/i;

export function lineOf(node: Node): number {
  return node.startPosition.row + 1;
}

/** Where a fact was found: a node (line and column) or a 1-based line. */
export type At = Node | number;

function position(at: At): { line: number; order: number } {
  if (typeof at === 'number') return { line: at, order: (at - 1) * 100_000 };
  const { row, column } = at.startPosition;
  return { line: row + 1, order: row * 100_000 + Math.min(column, 99_999) };
}

/** Shortens source text for a reason string: one line, at most `max` characters. */
export function brief(text: string, max = 60): string {
  const oneLine = text.replace(/\s+/g, ' ').trim();
  return oneLine.length > max ? `${oneLine.slice(0, max - 1)}…` : oneLine;
}

/** A usable TCP port: an integer 1..65535. Everything else (0, negatives, floats, > 65535) is rejected. */
export function validPort(value: number | undefined): number | undefined {
  return value !== undefined && Number.isInteger(value) && value >= 1 && value <= 65535 ? value : undefined;
}

/** "3000" → 3000; anything but plain digits → undefined. */
export function portFromDigits(text: string): number | undefined {
  const t = text.trim();
  return /^\d{1,5}$/.test(t) ? validPort(Number(t)) : undefined;
}

/** A listen address: ":8080", "0.0.0.0:8080", "localhost:3000", "[::]:80", "http://*:5000", "http://0.0.0.0:8080/". */
export function portFromAddress(text: string): number | undefined {
  const m = /^(?:[a-z][a-z0-9+.-]*:\/\/)?(?:\[[0-9a-fA-F:.]*\]|[\w.*+-]*):(\d{1,5})\/?$/.exec(text.trim());
  return m ? validPort(Number(m[1])) : undefined;
}

/** What an expression tells about a port: a number, the environment variable that overrides it, or both. */
export interface PortValue {
  port?: number;
  envVar?: string;
}

export function mergePort(a: PortValue | undefined, b: PortValue | undefined): PortValue | undefined {
  if (!a) return b;
  if (!b) return a;
  return { port: a.port ?? b.port, envVar: a.envVar ?? b.envVar };
}

/** Environment variables whose default is the service's own listen port (not a dependency's, like REDIS_PORT). */
export function isOwnPortVar(name: string | undefined): boolean {
  return name !== undefined && /^(?:PORT|HTTP_PORT|SERVER_PORT|APP_PORT|LISTEN_PORT|WEB_PORT)$/.test(name);
}

export class FactSink {
  readonly facts: CodeFacts = emptyFacts();
  // Ports found at a listen site come first; a bare `PORT` default elsewhere is weaker evidence and goes after.
  private readonly weakPorts: CodeFacts['ports'] = [];
  private readonly seen = new Set<string>();
  // Source order of each fact, so lists read top to bottom even when nodes are visited outer-first.
  private readonly order = new WeakMap<object, number>();

  private once(key: string): boolean {
    if (this.seen.has(key)) return false;
    this.seen.add(key);
    return true;
  }

  port(value: PortValue | undefined, at: At, reason: string, weak = false): void {
    const { line } = position(at);
    const port = validPort(value?.port);
    if (port === undefined) return;
    const list = weak ? this.weakPorts : this.facts.ports;
    if (list.length >= maxPerList || list.some((p) => p.port === port)) return;
    const fact: CodeFacts['ports'][number] = { port, line, reason: brief(reason, 120) };
    if (value?.envVar) fact.envVar = value.envVar;
    list.push(fact);
  }

  env(name: string, at: At, defaultValue?: string, via?: string): void {
    const { line, order } = position(at);
    if (!envNamePattern.test(name) || this.facts.envReads.length >= maxPerList) return;
    if (!this.once(`env:${name}:${line}:${defaultValue ?? ''}`)) return;
    const fact: CodeFacts['envReads'][number] = { name, line };
    if (defaultValue !== undefined && defaultValue.length <= maxTextLength) fact.defaultValue = defaultValue;
    if (via) fact.via = brief(via, 60);
    this.facts.envReads.push(fact);
    this.order.set(fact, order);
  }

  /** A gRPC service served or called, as the code names it (`CartService`, or with its package). */
  grpc(service: string, role: 'server' | 'client', at: At, reason: string): void {
    const name = service.trim();
    if (!/^[A-Za-z_][\w.]*$/.test(name) || name.length > maxTextLength || this.facts.grpc.length >= maxPerList) return;
    const { line, order } = position(at);
    if (!this.once(`grpc:${role}:${name}:${line}`)) return;
    const fact: CodeFacts['grpc'][number] = { service: name, role, line, reason: brief(reason, 80) };
    this.facts.grpc.push(fact);
    this.order.set(fact, order);
  }

  topic(
    system: BrokerSystem,
    name: string,
    role: 'produce' | 'consume',
    at: At,
    reason: string,
    inModule = false,
  ): void {
    const n = name.trim();
    if (!n || n.length > maxTextLength || /\s/.test(n) || this.facts.topics.length >= maxPerList) return;
    const { line, order } = position(at);
    if (!this.once(`topic:${system}:${role}:${n}:${line}`)) return;
    const fact: CodeFacts['topics'][number] = { system, name: n, role, line, reason: brief(reason, 80) };
    if (inModule) fact.inModule = true;
    this.facts.topics.push(fact);
    this.order.set(fact, order);
  }

  /** An address handed to a client, with the environment variables it was built from (none: nothing recorded). */
  dial(envVars: Iterable<string>, at: At, reason: string): void {
    const names = [...new Set(envVars)].filter((n) => envNamePattern.test(n));
    if (names.length === 0 || this.facts.dials.length >= maxPerList) return;
    const { line, order } = position(at);
    if (!this.once(`dial:${names.join(',')}:${line}`)) return;
    const fact: CodeFacts['dials'][number] = { envVars: names, line, reason: brief(reason, 80) };
    this.facts.dials.push(fact);
    this.order.set(fact, order);
  }

  /** Records `text` if it is a URL literal (scheme://...). Returns whether it was one. */
  url(text: string, at: At): boolean {
    const { line, order } = position(at);
    const url = text.trim();
    if (url.length > maxTextLength || !urlPattern.test(url)) return false;
    if (this.facts.urls.length < maxPerList && this.once(`url:${url}:${line}`)) {
      const fact = { url, line };
      this.facts.urls.push(fact);
      this.order.set(fact, order);
    }
    return true;
  }

  route(path: string, at: At, method?: string): void {
    const { line, order } = position(at);
    if (!path.startsWith('/') || path.length > maxTextLength || /\s/.test(path)) return;
    if (this.facts.routes.length >= maxPerList || !this.once(`route:${method ?? ''}:${path}:${line}`)) return;
    const fact: CodeFacts['routes'][number] = { path, line };
    if (method) fact.method = method.toUpperCase();
    this.facts.routes.push(fact);
    this.order.set(fact, order);
  }

  /** Records a host name a client connects to; ignores loopback/wildcard addresses and anything not host-shaped. */
  host(name: string, at: At, port?: number): void {
    const host = name.trim().toLowerCase();
    if (!hostPattern.test(host) || /^(?:localhost|0\.0\.0\.0|127\.\d+\.\d+\.\d+|::1?)$/.test(host)) return;
    const { line, order } = position(at);
    if (this.facts.hosts.length >= maxPerList || !this.once(`host:${host}:${line}`)) return;
    const fact: CodeFacts['hosts'][number] = { host, line };
    if (validPort(port) !== undefined) fact.port = port;
    this.facts.hosts.push(fact);
    this.order.set(fact, order);
  }

  import(module: string, at: At): void {
    const { line, order } = position(at);
    const m = module.trim();
    if (!m || m.length > maxTextLength || /\s/.test(m)) return;
    if (this.facts.imports.length >= maxPerList || !this.once(`import:${m}:${line}`)) return;
    const fact = { module: m, line };
    this.facts.imports.push(fact);
    this.order.set(fact, order);
  }

  finish(): CodeFacts {
    for (const p of this.weakPorts) {
      if (this.facts.ports.length < maxPerList && !this.facts.ports.some((q) => q.port === p.port))
        this.facts.ports.push(p);
    }
    this.weakPorts.length = 0;
    const byOrder = (a: object, b: object): number => (this.order.get(a) ?? 0) - (this.order.get(b) ?? 0);
    this.facts.envReads.sort(byOrder);
    this.facts.urls.sort(byOrder);
    this.facts.routes.sort(byOrder);
    this.facts.imports.sort(byOrder);
    this.facts.hosts.sort(byOrder);
    this.facts.grpc.sort(byOrder);
    this.facts.topics.sort(byOrder);
    this.facts.dials.sort(byOrder);
    return this.facts;
  }
}

/** Joins a route prefix and a path: ("api", "health") → "/api/health"; ("", "") → "/". */
export function joinRoute(prefix: string, path: string): string {
  const parts = [prefix, path].map((p) => p.replace(/^\/+|\/+$/g, '')).filter(Boolean);
  return `/${parts.join('/')}`;
}
