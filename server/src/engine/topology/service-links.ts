// One service's links, rule by rule over a scope shared by every service of the graph: declared dependencies,
// environment values naming a service, proxy upstreams, workspace packages, what the code names (URLs, hosts,
// address variables, gRPC clients, broker topics) and data-store drivers; with what its own record lacks.
import type { Edge, EdgeKind, Evidence, Problem, Recommendation } from '../../protocol';
import type { CodeFacts } from '../code/code-facts';
import { GRPC_HEALTH } from '../code/code-facts';
import { driverFor } from '../detect/catalog';
import { ev } from '../parse/evidence';
import { looksLikeSecretLiteral } from '../parse/secret-names';
import { closest } from '../detect/service-names';
import type { DataEngine } from '../detect/types';
import type { Assembled, ServiceFacts } from './assemble';
import {
  addressPrefix,
  candidatesFor,
  codeIndex,
  type CodeIndex,
  grpcKey,
  isOwnAddress,
  isStoreName,
  namesAService,
  servicesNamed,
  topicKey,
  topicName,
} from './code-links';

const ENGINE_LABEL: Record<DataEngine, string> = {
  postgres: 'PostgreSQL',
  mysql: 'MySQL',
  mongo: 'MongoDB',
  redis: 'Redis',
  memcached: 'Memcached',
  rabbitmq: 'RabbitMQ',
  kafka: 'Kafka',
  nats: 'NATS',
  elasticsearch: 'Elasticsearch',
};

/** Hosts named by an environment value: URLs (`postgres://db:5432/app`), `host:port`, or a bare host for *_HOST vars. */
export function hostsInValue(name: string, value: string): string[] {
  const out: string[] = [];
  for (const m of value.matchAll(/[a-z][a-z0-9+.-]*:\/\/(?:[^@/\s]*@)?([A-Za-z0-9_.-]+)(?::\d+)?/gi)) out.push(m[1]);
  if (out.length === 0) {
    const hp = /^([A-Za-z][A-Za-z0-9_.-]*):(\d{2,5})$/.exec(value.trim());
    if (hp) out.push(hp[1]);
    else if (
      /(HOST|HOSTNAME|ADDR|ADDRESS|SERVER|SERVICE)$/i.test(name) &&
      /^[A-Za-z][A-Za-z0-9_.-]*$/.test(value.trim())
    )
      out.push(value.trim());
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
  declared: 1,
  envValue: 0.9,
  proxy: 0.9,
  workspace: 0.95,
  urlInCode: 0.8,
  hostInCode: 0.75,
  grpc: 0.9,
  broker: 0.7,
  nameExact: 0.7,
  nameStem: 0.6,
  dialled: 0.15,
  driverOnly: 0.6,
  driverConnected: 0.8,
} as const;

const BROKER_LABEL: Record<string, string> = {
  kafka: 'Kafka topic',
  rabbitmq: 'RabbitMQ queue',
  'redis-channel': 'Redis channel',
  'redis-list': 'Redis list',
  nats: 'NATS subject',
  celery: 'Celery task',
  bull: 'BullMQ queue',
};

/** What one service contributes to the graph, cached while the service and the names around it stay the same. */
export interface ServiceLinks {
  edges: Edge[];
  libraries: string[];
  problems: Problem[];
  driverRecommendations: Recommendation[];
  recommendations: Recommendation[];
}

/** The lookups every service's rules share: services by host name and package, libraries, stores by engine. */
export interface LinkScope {
  services: ServiceFacts[];
  byHost: Map<string, ServiceFacts>;
  byPackage: Map<string, ServiceFacts>;
  libraryByPackage: Map<string, Assembled['libraries'][number]>;
  storesByEngine: Map<DataEngine, ServiceFacts[]>;
  /** Built on first use: only services with code facts need it. */
  codeIndex(): CodeIndex;
}

export function linkScope(a: Assembled): LinkScope {
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
  for (const x of a.services) {
    if (x.dataEngine) storesByEngine.set(x.dataEngine, [...(storesByEngine.get(x.dataEngine) ?? []), x]);
  }
  let index: CodeIndex | undefined;
  return {
    services: a.services,
    byHost,
    byPackage,
    libraryByPackage,
    storesByEngine,
    codeIndex: () => (index ??= codeIndex(a.services)),
  };
}

/** The edges of one service being linked, one per target and kind, gathering the evidence of every rule. */
class ServiceLinking {
  readonly edges = new Map<string, Edge>();
  readonly out: ServiceLinks;

  constructor(
    readonly s: ServiceFacts,
    readonly scope: LinkScope,
  ) {
    this.out = {
      edges: [],
      libraries: [],
      problems: [],
      driverRecommendations: [],
      recommendations: serviceRecommendations(s),
    };
  }

  add(to: ServiceFacts, kind: EdgeKind, evidence: Evidence, confidence: number, extra: Partial<Edge> = {}): void {
    if (this.s === to) return;
    const key = `${to.service.id}\u0000${kind}`;
    const existing = this.edges.get(key);
    if (existing) {
      if (!existing.evidence.some((e) => e.file === evidence.file && e.line === evidence.line))
        existing.evidence.push(evidence);
      existing.confidence = Math.max(existing.confidence ?? 0, confidence);
      if (extra.envVar && !existing.envVar) existing.envVar = extra.envVar;
      return;
    }
    this.edges.set(key, {
      from: this.s.service.id,
      to: to.service.id,
      kind,
      evidence: [evidence],
      ...extra,
      confidence,
    });
  }

  has(to: ServiceFacts, kind: EdgeKind): boolean {
    return this.edges.has(`${to.service.id}\u0000${kind}`);
  }

  recommend(code: string, file: string, line: number, message: string): void {
    this.out.recommendations.push({ code, serviceId: this.s.service.id, file, line, message });
  }
}

/** Every rule in turn; the order matters where a later rule looks at the edges an earlier one made. */
export function linksOf(scope: LinkScope, s: ServiceFacts): ServiceLinks {
  const l = new ServiceLinking(s, scope);
  declaredEdges(l);
  envValueEdges(l);
  proxyEdges(l);
  packageEdges(l);
  codeAddressEdges(l);
  if (s.code.length) codeFactEdges(l);
  driverEdges(l);
  l.out.edges = [...l.edges.values()];
  return l.out;
}

/** Declared: compose depends_on / links, kyozo.yaml depends_on; an unknown name is a problem with a suggestion. */
function declaredEdges(l: ServiceLinking): void {
  const { s } = l;
  for (const d of s.declaredDeps) {
    const target = d.compose
      ? l.scope.services.find((x) => x.compose?.model === d.compose && x.compose?.svc.name === d.name)
      : l.scope.byHost.get(d.name.toLowerCase());
    if (!target) {
      const known = d.compose ? d.compose.services.map((x) => x.name) : l.scope.services.map((x) => x.service.name);
      const suggestion = closest(d.name, known);
      l.out.problems.push({
        severity: 'error',
        code: 'unknown-depends-on',
        file: d.evidence.file,
        line: d.evidence.line,
        serviceId: s.service.id,
        message: `${s.service.name} depends on "${d.name}", which is not a service here${suggestion ? `; did you mean "${suggestion}"?` : ` (known: ${known.join(', ')})`}`,
      });
      continue;
    }
    l.add(target, 'compose', d.evidence, CONFIDENCE.declared, d.condition ? { condition: d.condition } : {});
  }
}

/** Environment values naming another service. */
function envValueEdges(l: ServiceLinking): void {
  for (const e of l.s.service.env) {
    if (!e.value) continue;
    for (const host of hostsOf(e.name, e.value)) {
      const target = l.scope.byHost.get(host);
      if (target) l.add(target, 'env-url', e.evidence, CONFIDENCE.envValue, { envVar: e.name });
    }
  }
}

/** Proxy upstreams. */
function proxyEdges(l: ServiceLinking): void {
  for (const u of l.s.upstreams) {
    const target = l.scope.byHost.get(u.host.toLowerCase());
    if (target) l.add(target, 'proxy-upstream', u.evidence, CONFIDENCE.proxy);
  }
}

/** Workspace packages, and the libraries of the workspace the service uses. */
function packageEdges(l: ServiceLinking): void {
  for (const d of l.s.dependencies) {
    const target = l.scope.byPackage.get(d.name);
    const uses = ev(d.file, `depends on workspace package ${d.name}`, d.line);
    if (target && target !== l.s) l.add(target, 'workspace-package', uses, CONFIDENCE.workspace);
    const lib = l.scope.libraryByPackage.get(d.name);
    if (lib && !l.out.libraries.includes(lib.id)) l.out.libraries.push(lib.id);
  }
}

/** Code: URL literals and the host names clients connect to. */
function codeAddressEdges(l: ServiceLinking): void {
  for (const { file, facts } of l.s.code) {
    for (const u of facts.urls) {
      for (const host of hostsOf('', u.url)) {
        const target = l.scope.byHost.get(host);
        if (target) l.add(target, 'code-ref', ev(file, `code calls ${u.url}`, u.line), CONFIDENCE.urlInCode);
      }
    }
    for (const h of facts.hosts ?? []) {
      const target = l.scope.byHost.get(h.host.toLowerCase());
      const connects = ev(file, `code connects to ${h.host}${h.port ? `:${h.port}` : ''}`, h.line);
      if (target) l.add(target, 'code-ref', connects, CONFIDENCE.hostInCode);
    }
  }
}

type Dial = { file: string; line: number; reason: string };

/** What the code names, file by file: address variables, gRPC clients, topics it sends to. */
function codeFactEdges(l: ServiceLinking): void {
  // Variables fed to a client (`grpc.Dial(addr)`, `insecure_channel(f"{host}:{port}")`) are addresses for certain.
  const dialled = new Map<string, Dial>();
  for (const { file, facts } of l.s.code) {
    for (const d of facts.dials ?? []) {
      for (const v of d.envVars) if (!dialled.has(v)) dialled.set(v, { file, line: d.line, reason: d.reason });
    }
  }
  const reported = new Set<string>();
  for (const { file, facts } of l.s.code) {
    addressVariableEdges(l, file, facts, dialled, reported);
    grpcClientEdges(l, file, facts, reported);
    brokerEdges(l, file, facts);
  }
}

/** Address variables named after another service; an unmatched or ambiguous one becomes a recommendation. */
function addressVariableEdges(
  l: ServiceLinking,
  file: string,
  facts: CodeFacts,
  dialled: Map<string, Dial>,
  reported: Set<string>,
): void {
  const { s } = l;
  const idx = l.scope.codeIndex();
  const self = s.service.name;
  for (const r of facts.envReads) {
    const prefix = addressPrefix(r.name);
    if (!prefix) continue;
    // A value given to the variable (compose, .env, kyozo.yaml, a default) that names another service wins.
    const declared = s.service.env.find((e) => e.name === r.name && e.value);
    const valueTargets = declared
      ? hostsOf(declared.name, declared.value!)
          .map((h) => l.scope.byHost.get(h))
          .filter((x) => x && x !== s)
      : [];
    const { services, exact } = servicesNamed(prefix, idx, s);
    if (valueTargets.length && !(services.length === 1 && valueTargets.includes(services[0]))) continue;
    const dial = dialled.get(r.name);
    if (services.length === 1) {
      const [to] = services;
      const via = r.via ? ` through ${r.via}` : '';
      const confidence = (exact ? CONFIDENCE.nameExact : CONFIDENCE.nameStem) + (dial ? CONFIDENCE.dialled : 0);
      const read = ev(file, `code reads ${r.name}${via}, named after ${to.service.name}`, r.line);
      l.add(to, 'code-ref', read, confidence, { envVar: r.name });
      if (dial) l.add(to, 'code-ref', ev(dial.file, `${dial.reason} dials ${r.name}`, dial.line), confidence);
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
      const names = services
        .map((x) => x.service.name)
        .sort()
        .join(', ');
      l.recommend(
        'unknown-service-address',
        file,
        r.line,
        `${self} reads ${r.name} (${where}) as the address of ` +
          `another service, and ${names} all match its name; ${value} naming one of them, or declare the ` +
          'dependency with depends_on in kyozo.yaml.',
      );
      continue;
    }
    const candidates = candidatesFor(prefix, l.scope.services, s);
    const hint = candidates.length ? `candidates: ${candidates.join(', ')}` : 'no service here has a name like it';
    const named = prefix.toLowerCase().replace(/_/g, '-');
    l.recommend(
      'unknown-service-address',
      file,
      r.line,
      `${self} reads ${r.name} (${where}) as the address of ` +
        `another service, but no service here is named after ${named} (${hint}); ${value}, declare the dependency ` +
        'with depends_on in kyozo.yaml, or add the service to the tree.',
    );
  }
}

/** gRPC: a generated client of a proto service exactly one other service serves. */
function grpcClientEdges(l: ServiceLinking, file: string, facts: CodeFacts, reported: Set<string>): void {
  const { s } = l;
  const idx = l.scope.codeIndex();
  for (const g of facts.grpc ?? []) {
    if (g.role !== 'client') continue;
    const servers = (idx.grpcServers.get(grpcKey(g.service)) ?? []).filter((x) => x.s !== s);
    const byService = [...new Set(servers.map((x) => x.s))];
    let target = byService.length === 1 ? byService[0] : undefined;
    // Several services serve it: the one an address variable already points at, if exactly one.
    if (!target && byService.length > 1) {
      const pointed = byService.filter((x) => l.has(x, 'code-ref') || l.has(x, 'env-url'));
      if (pointed.length === 1) target = pointed[0];
      else if (!reported.has(`grpc:${g.service}`)) {
        reported.add(`grpc:${g.service}`);
        const names = byService
          .map((x) => x.service.name)
          .sort()
          .join(', ');
        l.recommend(
          'ambiguous-grpc-server',
          file,
          g.line,
          `${s.service.name} calls ${g.service} over gRPC ` +
            `(${file}:${g.line}), which ${names} all serve; declare which one with depends_on in kyozo.yaml, ` +
            'or give its address variable a value naming it.',
        );
      }
    }
    if (!target) continue;
    const server = servers.find((x) => x.s === target)!;
    const serves = `${target.service.name} serves ${g.service} (${server.use.reason})`;
    const calls = `calls ${g.service} through its generated client (${g.reason})`;
    l.add(target, 'grpc', ev(file, calls, g.line), CONFIDENCE.grpc);
    l.add(target, 'grpc', ev(server.file, serves, server.use.line), CONFIDENCE.grpc);
  }
}

/** Brokers: what this service sends to a queue, topic, channel or task another service receives from. */
function brokerEdges(l: ServiceLinking, file: string, facts: CodeFacts): void {
  const { s } = l;
  const idx = l.scope.codeIndex();
  for (const t of facts.topics ?? []) {
    if (t.role !== 'produce') continue;
    const what = `${BROKER_LABEL[t.system] ?? t.system} ${topicName(s, file, t)}`;
    for (const c of idx.consumers.get(topicKey(s, file, t)) ?? []) {
      if (c.s === s) continue;
      const receives = `${c.s.service.name} receives from ${what} (${c.topic.reason})`;
      l.add(c.s, 'broker', ev(file, `sends to ${what} (${t.reason})`, t.line), CONFIDENCE.broker);
      l.add(c.s, 'broker', ev(c.file, receives, c.topic.line), CONFIDENCE.broker);
    }
  }
}

/** Drivers: a data-store client links to the one matching store, or asks for one. */
function driverEdges(l: ServiceLinking): void {
  const { s } = l;
  const seen = new Set<DataEngine>();
  for (const d of s.dependencies) {
    const engine = d.engine ?? driverFor(d.name);
    if (!engine || seen.has(engine) || s.dataEngine) continue;
    seen.add(engine);
    const stores = l.scope.storesByEngine.get(engine) ?? [];
    const connected = stores.filter((x) => l.has(x, 'env-url') || l.has(x, 'compose'));
    const target = stores.length === 1 ? stores[0] : connected.length === 1 ? connected[0] : undefined;
    const sure = stores.length === 1 ? CONFIDENCE.driverOnly : CONFIDENCE.driverConnected;
    if (target) l.add(target, 'driver', ev(d.file, `uses ${d.name} (${ENGINE_LABEL[engine]} client)`, d.line), sure);
    else if (stores.length === 0) {
      l.out.driverRecommendations.push({
        code: 'missing-database',
        serviceId: s.service.id,
        file: d.file,
        line: d.line,
        message: `${s.service.name} uses ${d.name}, a ${ENGINE_LABEL[engine]} client, but no ${ENGINE_LABEL[engine]} service is defined: add one (compose image or kyozo.yaml) so it can be deployed with the stack.`,
      });
    }
  }
}

/** What one service's own record says it lacks: EXPOSE, a health endpoint, a Dockerfile, secrets kept out of files. */
function serviceRecommendations(s: ServiceFacts): Recommendation[] {
  const recs: Recommendation[] = [];
  const svc = s.service;
  const main = svc.ports[0];
  const deployable = svc.type !== 'infrastructure' && !svc.image;
  if (
    deployable &&
    svc.build?.dockerfile &&
    main &&
    !s.exposed.includes(main.container) &&
    !svc.ports.some((p) => p.source === 'compose' && p.evidence.reason.startsWith('compose expose')) &&
    main.source !== 'image-default'
  ) {
    recs.push({
      code: 'missing-expose',
      serviceId: svc.id,
      file: svc.build.dockerfile,
      message: `${svc.name} listens on ${main.container} (${main.evidence.reason}) but its Dockerfile does not EXPOSE it: add \`EXPOSE ${main.container}\`.`,
    });
  }
  if (deployable && !svc.healthCheck && main && !['worker', 'static', 'proxy'].includes(svc.type)) {
    // A gRPC server is probed with the gRPC health service, so that is what it lacks, not an HTTP route.
    const grpc = s.code
      .flatMap(({ file, facts }) => (facts.grpc ?? []).map((g) => ({ file, g })))
      .find((x) => x.g.role === 'server' && x.g.service !== GRPC_HEALTH);
    if (grpc) {
      recs.push({
        code: 'no-grpc-health',
        serviceId: svc.id,
        file: grpc.file,
        line: grpc.g.line,
        message:
          `${svc.name} serves ${grpc.g.service} over gRPC (${grpc.file}:${grpc.g.line}) but does not ` +
          'register the standard health service; register grpc.health.v1.Health (grpc-go health.NewServer(), ' +
          'grpcio-health-checking, grpc-js-health-check, Grpc.AspNetCore.HealthChecks) so deployments can wait ' +
          'for SERVING.',
      });
    } else {
      recs.push({
        code: 'no-health-endpoint',
        serviceId: svc.id,
        file: svc.indicators[0],
        message:
          `${svc.name} defines no health endpoint; add a /healthz route (or a HEALTHCHECK) so deployments ` +
          'wait for real readiness instead of an open port.',
      });
    }
  }
  if (deployable && svc.build && !svc.build.dockerfile) {
    recs.push({
      code: 'no-dockerfile',
      serviceId: svc.id,
      file: svc.indicators[0],
      message: `${svc.name} has no Dockerfile; Kyozo generates one for ${svc.build.runtime ?? 'its language'} at deploy time (\`kyozo dockerfile ${svc.name}\` prints it).`,
    });
  }
  for (const e of svc.env) {
    const fromFile = /(^|\/)(\.env[^/]*|(docker-)?compose[^/]*\.ya?ml)$/.test(e.evidence.file);
    if (fromFile && !e.interpolated && looksLikeSecretLiteral(e.name, e.value)) {
      recs.push({
        code: 'secret-literal',
        serviceId: svc.id,
        file: e.evidence.file,
        line: e.evidence.line,
        message: `${e.name} of ${svc.name} is written as a literal in ${e.evidence.file}; move it to an untracked .env file or a secret store.`,
      });
    }
  }
  return recs;
}
