// Linking: dependencies between services (declared, environment URLs, drivers, workspace packages, proxy
// upstreams, code references), then the problems and recommendations only the whole graph can show.
import type { Edge, EdgeKind, Evidence, Problem, Recommendation, Service } from '../../protocol';
import { driverFor } from '../detect/catalog';
import { ev } from '../detect/evidence';
import { looksLikeSecretLiteral } from '../detect/secret-names';
import { closest } from '../detect/service-names';
import type { DataEngine } from '../detect/types';
import type { Assembled, ServiceFacts } from './assemble';
import {
  addressPrefix, candidatesFor, codeIndex, type CodeIndex, grpcKey, isOwnAddress, isStoreName, namesAService,
  servicesNamed, topicKey, topicName,
} from './code-links';
import { GRPC_HEALTH } from '../code/code-facts';
import { sameItems } from './cache-equality';

const ENGINE_LABEL: Record<DataEngine, string> = {
  postgres: 'PostgreSQL', mysql: 'MySQL', mongo: 'MongoDB', redis: 'Redis', memcached: 'Memcached', rabbitmq: 'RabbitMQ', kafka: 'Kafka', nats: 'NATS', elasticsearch: 'Elasticsearch',
};

/** Hosts named by an environment value: URLs (`postgres://db:5432/app`), `host:port`, or a bare host for *_HOST vars. */
export function hostsInValue(name: string, value: string): string[] {
  const out: string[] = [];
  for (const m of value.matchAll(/[a-z][a-z0-9+.-]*:\/\/(?:[^@/\s]*@)?([A-Za-z0-9_.-]+)(?::\d+)?/gi)) out.push(m[1]);
  if (out.length === 0) {
    const hp = /^([A-Za-z][A-Za-z0-9_.-]*):(\d{2,5})$/.exec(value.trim());
    if (hp) out.push(hp[1]);
    else if (/(HOST|HOSTNAME|ADDR|ADDRESS|SERVER|SERVICE)$/i.test(name) && /^[A-Za-z][A-Za-z0-9_.-]*$/.test(value.trim())) out.push(value.trim());
  }
  return out.map((h) => h.toLowerCase());
}

// Env values and URLs are re-linked on every update; their hosts only change when the value does.
const hostsMemo = new Map<string, string[]>();
function hostsOf(name: string, value: string): string[] {
  const key = `${name}\u0000${value}`;
  let hosts = hostsMemo.get(key);
  if (!hosts) {
    if (hostsMemo.size > 50_000) hostsMemo.clear();
    hosts = hostsInValue(name, value);
    hostsMemo.set(key, hosts);
  }
  return hosts;
}

// How sure each kind of evidence makes an edge; an edge seen several ways keeps the highest.
const CONFIDENCE = {
  declared: 1, envValue: 0.9, proxy: 0.9, workspace: 0.95, urlInCode: 0.8, hostInCode: 0.75, grpc: 0.9, broker: 0.7,
  nameExact: 0.7, nameStem: 0.6, dialled: 0.15, driverOnly: 0.6, driverConnected: 0.8,
} as const;

const BROKER_LABEL: Record<string, string> = {
  kafka: 'Kafka topic', rabbitmq: 'RabbitMQ queue', 'redis-channel': 'Redis channel', 'redis-list': 'Redis list',
  nats: 'NATS subject', celery: 'Celery task', bull: 'BullMQ queue',
};

export interface Linked {
  edges: Edge[];
  problems: Problem[];
  recommendations: Recommendation[];
}

/** What one service's own record says it lacks: EXPOSE, a health endpoint, a Dockerfile, secrets kept out of files. */
function serviceRecommendations(s: ServiceFacts): Recommendation[] {
  const recs: Recommendation[] = [];
  const svc = s.service;
  const main = svc.ports[0];
  const deployable = svc.type !== 'infrastructure' && !svc.image;
  if (deployable && svc.build?.dockerfile && main && !s.exposed.includes(main.container) && !svc.ports.some((p) => p.source === 'compose' && p.evidence.reason.startsWith('compose expose')) && main.source !== 'image-default') {
    recs.push({ code: 'missing-expose', serviceId: svc.id, file: svc.build.dockerfile, message: `${svc.name} listens on ${main.container} (${main.evidence.reason}) but its Dockerfile does not EXPOSE it: add \`EXPOSE ${main.container}\`.` });
  }
  if (deployable && !svc.healthCheck && main && !['worker', 'static', 'proxy'].includes(svc.type)) {
    // A gRPC server is probed with the gRPC health service, so that is what it lacks, not an HTTP route.
    const grpc = s.code.flatMap(({ file, facts }) => (facts.grpc ?? []).map((g) => ({ file, g })))
      .find((x) => x.g.role === 'server' && x.g.service !== GRPC_HEALTH);
    if (grpc) {
      recs.push({
        code: 'no-grpc-health', serviceId: svc.id, file: grpc.file, line: grpc.g.line,
        message: `${svc.name} serves ${grpc.g.service} over gRPC (${grpc.file}:${grpc.g.line}) but does not ` +
          'register the standard health service; register grpc.health.v1.Health (grpc-go health.NewServer(), ' +
          'grpcio-health-checking, grpc-js-health-check, Grpc.AspNetCore.HealthChecks) so deployments can wait ' +
          'for SERVING.',
      });
    } else {
      recs.push({
        code: 'no-health-endpoint', serviceId: svc.id, file: svc.indicators[0],
        message: `${svc.name} defines no health endpoint; add a /healthz route (or a HEALTHCHECK) so deployments ` +
          'wait for real readiness instead of an open port.',
      });
    }
  }
  if (deployable && svc.build && !svc.build.dockerfile) {
    recs.push({ code: 'no-dockerfile', serviceId: svc.id, file: svc.indicators[0], message: `${svc.name} has no Dockerfile; Kyozo generates one for ${svc.build.runtime ?? 'its language'} at deploy time (\`kyozo dockerfile ${svc.name}\` prints it).` });
  }
  for (const e of svc.env) {
    const fromFile = /(^|\/)(\.env[^/]*|(docker-)?compose[^/]*\.ya?ml)$/.test(e.evidence.file);
    if (fromFile && !e.interpolated && looksLikeSecretLiteral(e.name, e.value)) {
      recs.push({ code: 'secret-literal', serviceId: svc.id, file: e.evidence.file, line: e.evidence.line, message: `${e.name} of ${svc.name} is written as a literal in ${e.evidence.file}; move it to an untracked .env file or a secret store.` });
    }
  }
  return recs;
}

/** What one service contributes to the graph, cached while the service and the names around it stay the same. */
interface ServiceLinks {
  edges: Edge[];
  libraries: string[];
  problems: Problem[];
  driverRecommendations: Recommendation[];
  recommendations: Recommendation[];
}

/**
 * Per service, its links and what they were computed against. `world` counts changes to anything a service's links
 * may look up in the others (names, packages, data stores, libraries); it moves only when one of those changes.
 */
export interface LinkCache {
  entries: Map<string, { built: ServiceFacts | undefined; name: string; world: number; links: ServiceLinks }>;
  signatures: Map<string, { built: ServiceFacts | undefined; signature: string }>;
  libraries: string;
  world: number;
  /** The last run's per-service links and the sorted edges made from them: reused while every link is. */
  last?: { links: ServiceLinks[]; edges: Edge[] };
}

export function createLinkCache(): LinkCache {
  return { entries: new Map(), signatures: new Map(), libraries: '', world: 0 };
}

const sameEvidence = (p: Evidence, q: Evidence) => p.file === q.file && p.line === q.line && p.reason === q.reason;

function sameEdge(x: Edge, y: Edge): boolean {
  return x.from === y.from && x.to === y.to && x.kind === y.kind && x.envVar === y.envVar && x.condition === y.condition && sameItems(x.evidence, y.evidence, sameEvidence);
}

function worldOf(a: Assembled, cache: LinkCache): number {
  let changed = cache.signatures.size !== a.services.length;
  for (const s of a.services) {
    const prev = cache.signatures.get(s.service.id);
    if (prev && prev.built === s.built && s.built !== undefined) continue;
    const signature = `${s.hostNames.join(',')}|${s.packageName ?? ''}|${s.dataEngine ?? ''}|${codeSignature(s)}`;
    if (!prev || prev.signature !== signature) changed = true;
    cache.signatures.set(s.service.id, { built: s.built, signature });
  }
  if (cache.signatures.size !== a.services.length) {
    const ids = new Set(a.services.map((s) => s.service.id));
    for (const id of cache.signatures.keys()) if (!ids.has(id)) cache.signatures.delete(id);
    changed = true;
  }
  const libraries = a.libraries.map((l) => `${l.id}|${l.packageName ?? ''}`).join(',');
  if (libraries !== cache.libraries) {
    cache.libraries = libraries;
    changed = true;
  }
  if (changed) cache.world++;
  return cache.world;
}

/** What other services' links may look up in this one's code: the gRPC services it serves, the queues it reads. */
function codeSignature(s: ServiceFacts): string {
  const parts: string[] = [];
  for (const { file, facts } of s.code) {
    for (const g of facts.grpc ?? []) if (g.role === 'server') parts.push(`${g.service}@${file}:${g.line}`);
    for (const t of facts.topics ?? []) {
      if (t.role === 'consume') parts.push(`${topicKey(s, file, t)}@${file}:${t.line}`);
    }
  }
  return parts.join(',');
}

export function link(a: Assembled, cache?: LinkCache): Linked {
  const problems: Problem[] = [];
  const recommendations: Recommendation[] = [];
  const byHost = new Map<string, ServiceFacts>();
  for (const s of a.services) {
    for (const h of s.hostNames) {
      const host = h.toLowerCase();
      if (!byHost.has(host)) byHost.set(host, s);
    }
  }
  const byPackage = new Map<string, ServiceFacts>();
  for (const s of a.services) if (s.packageName) byPackage.set(s.packageName, s);
  const libraryByPackage = new Map(a.libraries.filter((l) => l.packageName).map((l) => [l.packageName!, l]));
  const storesByEngine = new Map<DataEngine, ServiceFacts[]>();
  for (const x of a.services) if (x.dataEngine) storesByEngine.set(x.dataEngine, [...(storesByEngine.get(x.dataEngine) ?? []), x]);
  const world = cache ? worldOf(a, cache) : 0;
  let index: CodeIndex | undefined;
  const codeIndexOf = (): CodeIndex => (index ??= codeIndex(a.services));

  type Add = (to: ServiceFacts, kind: EdgeKind, evidence: Evidence, confidence: number, extra?: Partial<Edge>) => void;

  /** Address variables that name a service, gRPC clients of a service served here, queues another service reads. */
  const linkCode = (s: ServiceFacts, out: ServiceLinks, add: Add, edges: Map<string, Edge>): void => {
    const idx = codeIndexOf();
    const self = s.service.name;
    // Variables fed to a client (`grpc.Dial(addr)`, `insecure_channel(f"{host}:{port}")`) are addresses for certain.
    const dialled = new Map<string, { file: string; line: number; reason: string }>();
    for (const { file, facts } of s.code) {
      for (const d of facts.dials ?? []) {
        for (const v of d.envVars) if (!dialled.has(v)) dialled.set(v, { file, line: d.line, reason: d.reason });
      }
    }
    const reported = new Set<string>();
    const recommend = (code: string, file: string, line: number, message: string) =>
      out.recommendations.push({ code, serviceId: s.service.id, file, line, message });
    for (const { file, facts } of s.code) {
      for (const r of facts.envReads) {
        const prefix = addressPrefix(r.name);
        if (!prefix) continue;
        // A value given to the variable (compose, .env, kyozo.yaml, a default) that names another service wins.
        const declared = s.service.env.find((e) => e.name === r.name && e.value);
        const valueTargets = declared
          ? hostsOf(declared.name, declared.value!).map((h) => byHost.get(h)).filter((x) => x && x !== s)
          : [];
        const { services, exact } = servicesNamed(prefix, idx, s);
        if (valueTargets.length && !(services.length === 1 && valueTargets.includes(services[0]))) continue;
        const dial = dialled.get(r.name);
        if (services.length === 1) {
          const [to] = services;
          const via = r.via ? ` through ${r.via}` : '';
          const confidence = (exact ? CONFIDENCE.nameExact : CONFIDENCE.nameStem) + (dial ? CONFIDENCE.dialled : 0);
          const read = ev(file, `code reads ${r.name}${via}, named after ${to.service.name}`, r.line);
          add(to, 'code-ref', read, confidence, { envVar: r.name });
          if (dial) add(to, 'code-ref', ev(dial.file, `${dial.reason} dials ${r.name}`, dial.line), confidence);
          continue;
        }
        // Only a name that says it is another service's address (or a dialled one) asks for a decision.
        const addressOfService = namesAService(r.name) || dial !== undefined;
        const valueElsewhere = declared !== undefined && !declared.evidence.reason.startsWith('code reads');
        const notAsked = !addressOfService || isStoreName(prefix) || isOwnAddress(prefix);
        if (notAsked || reported.has(r.name) || valueElsewhere) continue;
        reported.add(r.name);
        const where = `${file}:${r.line}`;
        const value = `give ${r.name} a value (host:port in .env or kyozo.yaml env)`;
        if (services.length > 1) {
          const names = services.map((x) => x.service.name).sort().join(', ');
          recommend('unknown-service-address', file, r.line, `${self} reads ${r.name} (${where}) as the address of ` +
            `another service, and ${names} all match its name; ${value} naming one of them, or declare the ` +
            'dependency with depends_on in kyozo.yaml.');
          continue;
        }
        const candidates = candidatesFor(prefix, a.services, s);
        const hint = candidates.length ? `candidates: ${candidates.join(', ')}` : 'no service here has a name like it';
        const named = prefix.toLowerCase().replace(/_/g, '-');
        recommend('unknown-service-address', file, r.line, `${self} reads ${r.name} (${where}) as the address of ` +
          `another service, but no service here is named after ${named} (${hint}); ${value}, declare the dependency ` +
          'with depends_on in kyozo.yaml, or add the service to the tree.');
      }
      // gRPC: a generated client of a proto service exactly one other service serves.
      for (const g of facts.grpc ?? []) {
        if (g.role !== 'client') continue;
        const servers = (idx.grpcServers.get(grpcKey(g.service)) ?? []).filter((x) => x.s !== s);
        const byService = [...new Set(servers.map((x) => x.s))];
        let target = byService.length === 1 ? byService[0] : undefined;
        // Several services serve it: the one an address variable already points at, if exactly one.
        if (!target && byService.length > 1) {
          const linked = (x: ServiceFacts) =>
            edges.has(`${x.service.id}\u0000code-ref`) || edges.has(`${x.service.id}\u0000env-url`);
          const pointed = byService.filter(linked);
          if (pointed.length === 1) target = pointed[0];
          else if (!reported.has(`grpc:${g.service}`)) {
            reported.add(`grpc:${g.service}`);
            const names = byService.map((x) => x.service.name).sort().join(', ');
            recommend('ambiguous-grpc-server', file, g.line, `${self} calls ${g.service} over gRPC ` +
              `(${file}:${g.line}), which ${names} all serve; declare which one with depends_on in kyozo.yaml, ` +
              'or give its address variable a value naming it.');
          }
        }
        if (!target) continue;
        const server = servers.find((x) => x.s === target)!;
        const serves = `${target.service.name} serves ${g.service} (${server.use.reason})`;
        const calls = `calls ${g.service} through its generated client (${g.reason})`;
        add(target, 'grpc', ev(file, calls, g.line), CONFIDENCE.grpc);
        add(target, 'grpc', ev(server.file, serves, server.use.line), CONFIDENCE.grpc);
      }
      // Brokers: what this service sends to a queue, topic, channel or task another service receives from.
      for (const t of facts.topics ?? []) {
        if (t.role !== 'produce') continue;
        const what = `${BROKER_LABEL[t.system] ?? t.system} ${topicName(s, file, t)}`;
        for (const c of idx.consumers.get(topicKey(s, file, t)) ?? []) {
          if (c.s === s) continue;
          const receives = `${c.s.service.name} receives from ${what} (${c.topic.reason})`;
          add(c.s, 'broker', ev(file, `sends to ${what} (${t.reason})`, t.line), CONFIDENCE.broker);
          add(c.s, 'broker', ev(c.file, receives, c.topic.line), CONFIDENCE.broker);
        }
      }
    }
  };

  const linksOf = (s: ServiceFacts): ServiceLinks => {
    const edges = new Map<string, Edge>();
    const out: ServiceLinks = { edges: [], libraries: [], problems: [], driverRecommendations: [], recommendations: serviceRecommendations(s) };
    const add: Add = (to, kind, evidence, confidence, extra = {}) => {
      if (s === to) return;
      const key = `${to.service.id}\u0000${kind}`;
      const existing = edges.get(key);
      if (existing) {
        if (!existing.evidence.some((e) => e.file === evidence.file && e.line === evidence.line)) existing.evidence.push(evidence);
        existing.confidence = Math.max(existing.confidence ?? 0, confidence);
        if (extra.envVar && !existing.envVar) existing.envVar = extra.envVar;
        return;
      }
      edges.set(key, { from: s.service.id, to: to.service.id, kind, evidence: [evidence], ...extra, confidence });
    };
    // Declared: compose depends_on / links, kyozo.yaml depends_on.
    for (const d of s.declaredDeps) {
      const target = d.compose
        ? a.services.find((x) => x.compose?.model === d.compose && x.compose?.svc.name === d.name)
        : byHost.get(d.name.toLowerCase());
      if (!target) {
        const known = d.compose ? d.compose.services.map((x) => x.name) : a.services.map((x) => x.service.name);
        const suggestion = closest(d.name, known);
        out.problems.push({
          severity: 'error', code: 'unknown-depends-on', file: d.evidence.file, line: d.evidence.line, serviceId: s.service.id,
          message: `${s.service.name} depends on "${d.name}", which is not a service here${suggestion ? `; did you mean "${suggestion}"?` : ` (known: ${known.join(', ')})`}`,
        });
        continue;
      }
      add(target, 'compose', d.evidence, CONFIDENCE.declared, d.condition ? { condition: d.condition } : {});
    }
    // Environment values naming another service.
    for (const e of s.service.env) {
      if (!e.value) continue;
      for (const host of hostsOf(e.name, e.value)) {
        const target = byHost.get(host);
        if (target) add(target, 'env-url', e.evidence, CONFIDENCE.envValue, { envVar: e.name });
      }
    }
    // Proxy upstreams.
    for (const u of s.upstreams) {
      const target = byHost.get(u.host.toLowerCase());
      if (target) add(target, 'proxy-upstream', u.evidence, CONFIDENCE.proxy);
    }
    // Workspace packages and libraries.
    for (const d of s.dependencies) {
      const target = byPackage.get(d.name);
      const uses = ev(d.file, `depends on workspace package ${d.name}`, d.line);
      if (target && target !== s) add(target, 'workspace-package', uses, CONFIDENCE.workspace);
      const lib = libraryByPackage.get(d.name);
      if (lib && !out.libraries.includes(lib.id)) out.libraries.push(lib.id);
    }
    // Code: URL literals, client host names and env reads such as USERS_URL naming a service.
    for (const { file, facts } of s.code) {
      for (const u of facts.urls) {
        for (const host of hostsOf('', u.url)) {
          const target = byHost.get(host);
          if (target) add(target, 'code-ref', ev(file, `code calls ${u.url}`, u.line), CONFIDENCE.urlInCode);
        }
      }
      for (const h of facts.hosts ?? []) {
        const target = byHost.get(h.host.toLowerCase());
        const connects = ev(file, `code connects to ${h.host}${h.port ? `:${h.port}` : ''}`, h.line);
        if (target) add(target, 'code-ref', connects, CONFIDENCE.hostInCode);
      }
    }
    if (s.code.length) linkCode(s, out, add, edges);
    // Drivers: a data-store client links to the one matching store, or asks for one.
    const seen = new Set<DataEngine>();
    for (const d of s.dependencies) {
      const engine = d.engine ?? driverFor(d.name);
      if (!engine || seen.has(engine) || s.dataEngine) continue;
      seen.add(engine);
      const stores = storesByEngine.get(engine) ?? [];
      const connected = stores.filter((x) => edges.has(`${x.service.id}\u0000env-url`) || edges.has(`${x.service.id}\u0000compose`));
      const target = stores.length === 1 ? stores[0] : connected.length === 1 ? connected[0] : undefined;
      const sure = stores.length === 1 ? CONFIDENCE.driverOnly : CONFIDENCE.driverConnected;
      if (target) add(target, 'driver', ev(d.file, `uses ${d.name} (${ENGINE_LABEL[engine]} client)`, d.line), sure);
      else if (stores.length === 0) {
        out.driverRecommendations.push({
          code: 'missing-database', serviceId: s.service.id, file: d.file, line: d.line,
          message: `${s.service.name} uses ${d.name}, a ${ENGINE_LABEL[engine]} client, but no ${ENGINE_LABEL[engine]} service is defined: add one (compose image or kyozo.yaml) so it can be deployed with the stack.`,
        });
      }
    }
    out.edges = [...edges.values()];
    return out;
  };

  const all: ServiceLinks[] = a.services.map((s) => {
    const hit = cache?.entries.get(s.service.id);
    if (hit && hit.built === s.built && hit.built !== undefined && hit.name === s.service.name && hit.world === world) return hit.links;
    const links = linksOf(s);
    // Equal edges keep the previous array, so a rebuilt service whose dependencies stayed put changes no edge.
    if (hit && sameItems(hit.links.edges, links.edges, sameEdge)) links.edges = hit.links.edges;
    cache?.entries.set(s.service.id, { built: s.built, name: s.service.name, world, links });
    return links;
  });
  if (cache && cache.entries.size > a.services.length) {
    const ids = new Set(a.services.map((s) => s.service.id));
    for (const id of cache.entries.keys()) if (!ids.has(id)) cache.entries.delete(id);
  }
  // Set in place on the records handed in, and only when they differ: most services keep theirs across updates.
  a.services.forEach((s, i) => {
    const libs = all[i].libraries;
    const now = s.service.libraries;
    if (libs.length) {
      if (!now || !sameItems(now, libs)) s.service.libraries = [...libs];
    } else if (now) delete s.service.libraries;
  });
  for (const l of all) problems.push(...l.problems);
  for (const l of all) recommendations.push(...l.driverRecommendations);
  // Most updates change no service's links: the previous edge array (the same object) then stands, so what is
  // derived from the edges alone (order, patterns) can be reused by identity.
  const reused = cache?.last && sameItems(cache.last.links, all, (x, y) => x.edges === y.edges) ? cache.last.edges : undefined;
  const edges = reused ?? sortEdges(all.flatMap((l) => l.edges));
  if (cache) cache.last = { links: all, edges };

  // Ports claimed twice on the host.
  const hostPorts = new Map<number, Service>();
  for (const s of a.services) {
    for (const p of s.service.ports) {
      if (p.host === undefined) continue;
      const other = hostPorts.get(p.host);
      if (other && other !== s.service) {
        problems.push({
          severity: 'error', code: 'port-conflict', file: p.evidence.file, line: p.evidence.line, serviceId: s.service.id,
          message: `${s.service.name} and ${other.name} both publish host port ${p.host}; change one of them (Kyozo allocates a free port when none is given).`,
        });
      } else hostPorts.set(p.host, s.service);
    }
  }

  for (const l of all) recommendations.push(...l.recommendations);

  return { edges, problems, recommendations };
}

function sortEdges(edges: Edge[]): Edge[] {
  const cmp = (x: string, y: string) => (x < y ? -1 : x > y ? 1 : 0);
  return edges.sort((x, y) => cmp(x.from, y.from) || cmp(x.to, y.to) || cmp(x.kind, y.kind));
}
