// Assembly: merges the findings of each folder, the compose services and kyozo.yaml overrides into
// Service records. Decides what is a service, what is a library and what is only a workspace or compose group.
import type { EnvVar, Evidence, Group, HealthCheck, Library, PortSource, PortSpec, Problem, Service, StartSpec } from '../../protocol';
import { GRPC_HEALTH, type CodeFacts } from '../code/code-facts';
import type { ComposeModel, ComposeService } from '../compose/compose-import';
import { imageInfo } from '../detect/catalog';
import { ev } from '../detect/evidence';
import { isSecretName } from '../detect/secret-names';
import { dnsName } from '../detect/service-names';
import type { DataEngine, Dependency, Finding } from '../detect/types';
import { sameItems } from './cache-equality';

/** What linking needs beside the public Service. */
export interface ServiceFacts {
  service: Service;
  dependencies: Dependency[];
  upstreams: NonNullable<Finding['upstreams']>;
  dataEngine?: DataEngine;
  packageName?: string;
  code: { file: string; facts: CodeFacts }[];
  declaredDeps: { name: string; evidence: Evidence; condition?: ComposeService['dependsOn'][number]['condition']; compose?: ComposeModel; links?: boolean }[];
  compose?: { model: ComposeModel; svc: ComposeService };
  frontend: boolean;
  /** Every name the service answers to on the network (name, compose name, aliases). */
  hostNames: string[];
  /** The cached record this copy was made from: unchanged identity means unchanged inputs. */
  built?: ServiceFacts;
  /** Ports the Dockerfile EXPOSEs, itself or through its base image (nginx: 80). */
  exposed: number[];
}

/** Built services by id, reused while nothing they were built from has changed. */
export type ServiceCache = Map<string, { inputs: BuildInputs; facts: ServiceFacts; final?: ServiceFacts }>;

/** Everything buildService reads, by identity. */
interface BuildInputs {
  fs: Finding[];
  model: ComposeModel | undefined;
  svc: ComposeService | undefined;
  version: unknown;
  code: CodeFacts[];
}

function sameInputs(a: BuildInputs, b: BuildInputs): boolean {
  return a.fs === b.fs && a.model === b.model && a.svc === b.svc && a.version === b.version && sameItems(a.code, b.code);
}

const NO_CODE: CodeFacts[] = [];

export interface AssembleInput {
  rootName: string;
  cache?: ServiceCache;
  /** The identity of a folder's listing changes whenever the folder changes (new files, an edited .env). */
  folderVersion?: (dir: string) => unknown;
  /** What a Dockerfile compose names says, when it is not its folder's own (`dockerfile: docker/Dockerfile.prod`). */
  dockerfile?: (path: string) => Finding | undefined;
  findings: Map<string, Finding[]>;
  compose: ComposeModel[];
  codeFacts: (files: string[]) => CodeFacts[];
  dotEnv: (dir: string) => EnvVar[];
}

export interface Assembled {
  services: ServiceFacts[];
  libraries: (Library & { packageName?: string })[];
  groups: Group[];
  problems: Problem[];
}

const PORT_STRENGTH: PortSource[] = ['kyozo.yaml', 'compose', 'dockerfile', 'procfile', 'script', 'config', 'code', 'image-default', 'framework-default'];
const START_STRENGTH: StartSpec['source'][] = ['kyozo.yaml', 'compose', 'procfile', 'dockerfile', 'script', 'manifest', 'framework-default'];
const HEALTH_PATHS = new RegExp('^/(health|healthz|_healthz|healthcheck|ready|readyz|readiness|live|livez|liveness|' +
  'status|ping|_health|' +
  'api/health|api/healthz|health/live|health/ready|health/liveness|health/readiness|actuator/health|up)/?$');
// A manifest in one of these folders belongs to the project around it: `src/cartservice/src/cartservice.csproj`.
const GENERIC_FOLDERS = new Set(['src', 'app', 'server', 'backend']);

function isAncestor(a: string, b: string): boolean {
  if (a === '.') return b !== '.';
  return b.length > a.length && b.charCodeAt(a.length) === 47 /* '/' */ && b.startsWith(a);
}

function combineConfidence(values: number[]): number {
  const p = values.reduce((acc, c) => acc * (1 - Math.min(0.95, Math.max(0, c))), 1);
  return Math.round(Math.min(0.99, 1 - p) * 100) / 100;
}

export function assemble(input: AssembleInput): Assembled {
  const problems: Problem[] = [];
  const groups: Group[] = [];
  const libraries: Assembled['libraries'] = [];

  // Folders that compose builds are services whatever their own files say.
  // When several compose services build the same folder (web + worker from one image), the one that publishes a
  // port owns the folder's id and the others become services of their own, `<compose file>#<name>`.
  const composeBuilt = new Map<string, { model: ComposeModel; svc: ComposeService }>();
  for (const model of input.compose) {
    for (const svc of model.services) {
      const folder = builtFolder(svc, input.findings);
      if (folder === undefined) continue;
      const owner = composeBuilt.get(folder);
      if (!owner || (owner.svc.ports.every((p) => p.host === undefined) && svc.ports.some((p) => p.host !== undefined))) composeBuilt.set(folder, { model, svc });
    }
    problems.push(...model.problems);
  }

  // Dockerfiles that compose builds another folder with (`context: ../web`, `dockerfile: docker/Dockerfile.prod`)
  // make their own folder nothing of its own.
  const borrowedDockerfiles = new Set<string>();
  for (const [folder, { svc }] of composeBuilt) {
    const df = svc.build?.dockerfile;
    if (df) {
      const dfDir = df.includes('/') ? df.slice(0, df.lastIndexOf('/')) : '.';
      if (dfDir !== folder) borrowedDockerfiles.add(df);
    }
  }

  // 1. Classify folders.
  type Kind = 'service' | 'library' | 'group-only' | 'weak';
  const kinds = new Map<string, Kind>();
  const dirs = [...new Set([...input.findings.keys(), ...composeBuilt.keys()])].sort((a, b) => depth(a) - depth(b) || (a < b ? -1 : a > b ? 1 : 0));
  for (const dir of dirs) {
    const all = input.findings.get(dir) ?? [];
    for (const f of all) if (f.problems?.length) problems.push(...f.problems);
    const fs = borrowedDockerfiles.size ? all.filter((f) => !(f.detector === 'dockerfile' && f.build?.dockerfile && borrowedDockerfiles.has(f.build.dockerfile))) : all;
    if (fs.length === 0 && !composeBuilt.has(dir)) continue;
    const strong = composeBuilt.has(dir) || fs.some((f) => f.detector === 'kyozo.yaml' || f.detector === 'dockerfile' || f.detector === 'procfile');
    const runnable = fs.some((f) => f.runnable === true);
    const notRunnable = fs.some((f) => f.runnable === false);
    const infra = fs.some((f) => f.type === 'infrastructure');
    const workspace = fs.find((f) => f.workspace);
    const typed = fs.some((f) => f.type !== undefined);
    let kind: Kind;
    if (strong || (runnable && !fs.every((f) => f.detector === 'static' || f.runnable !== true || f.detector === 'workspace'))) kind = 'service';
    else if (runnable) kind = 'weak'; // a static index.html: a service only when no service contains it
    else if (infra) kind = 'service';
    else if (workspace && !runnable) kind = 'group-only';
    else if (notRunnable && fs.some((f) => f.packageName || f.type)) kind = 'library';
    else if (typed && fs.some((f) => f.problems?.length)) kind = 'weak'; // a broken manifest: keep the folder visible
    else if (typed) kind = 'weak';
    else continue;
    kinds.set(dir, kind);
    if (workspace?.workspace) groups.push({ id: dir, kind: 'workspace', tool: workspace.workspace.tool, members: [], evidence: [workspace.workspace.evidence] });
  }
  // A folder inside a service belongs to it unless it is a service in its own right.
  const serviceDirs = new Set<string>();
  const insideService = (dir: string): boolean => {
    for (let d = dir; d !== '.';) {
      d = d.includes('/') ? d.slice(0, d.lastIndexOf('/')) : '.';
      if (serviceDirs.has(d)) return true;
    }
    return false;
  };
  for (const dir of dirs) {
    const kind = kinds.get(dir);
    if (!kind) continue;
    if (kind === 'weak') {
      if (insideService(dir)) continue;
      kinds.set(dir, 'service');
    }
    if (kinds.get(dir) === 'service') serviceDirs.add(dir);
  }

  // 2. Build services.
  const services: ServiceFacts[] = [];
  for (const dir of dirs) {
    const kind = kinds.get(dir);
    const fs = input.findings.get(dir) ?? [];
    if (kind === 'library') {
      const f = fs.find((x) => x.packageName) ?? fs[0];
      libraries.push({ id: dir, name: f.packageName ?? baseName(dir, input.rootName), folder: dir, language: fs.find((x) => x.language)?.language, evidence: fs.flatMap((x) => x.evidence).slice(0, 4), packageName: f.packageName });
      continue;
    }
    if (kind !== 'service') continue;
    services.push(cachedBuild(dir, fs, composeBuilt.get(dir), input));
  }
  for (const model of input.compose) {
    for (const svc of model.services) {
      const built = builtFolder(svc, input.findings);
      if (built !== undefined && composeBuilt.get(built)?.svc === svc) continue;
      const id = `${model.files[0]}#${svc.name}`;
      const folder = built ?? model.dir;
      services.push(cachedBuild(id, svc.build ? input.findings.get(folder) ?? [] : [], { model, svc }, input, folder));
    }
  }

  // 3. Unique DNS names and groups, decided on the cached records without touching them.
  const nameOf = new Map<ServiceFacts, string>();
  const taken = new Set<string>();
  for (const s of services) {
    let name = s.service.name;
    // A generic folder named after its parent, beside the parent's own service: `shop`, `shop/server` → shop-server.
    const last = s.service.folder.slice(s.service.folder.lastIndexOf('/') + 1);
    const qualified = dnsName(`${name}-${last}`);
    if (taken.has(name) && GENERIC_FOLDERS.has(last) && !taken.has(qualified)) name = qualified;
    for (let i = 2; taken.has(name); i++) name = `${s.service.name}-${i}`;
    nameOf.set(s, name);
    taken.add(name);
  }
  const groupOf = new Map<ServiceFacts, string>();
  for (const model of input.compose) {
    const members = services.filter((s) => s.compose?.model === model).map((s) => s.service.id);
    if (members.length) groups.push({ id: model.dir, kind: 'compose', tool: 'compose', members, evidence: [ev(model.files[0], `compose file with ${members.length} services`)] });
  }
  for (const g of groups) {
    if (g.kind !== 'workspace') continue;
    g.members = [...services.map((s) => s.service.folder), ...libraries.map((l) => l.folder)].filter((d) => isAncestor(g.id, d) && d !== g.id);
    for (const s of services) if (!groupOf.has(s) && isAncestor(g.id, s.service.folder)) groupOf.set(s, g.id);
  }
  for (const s of services) if (!groupOf.has(s) && s.compose) groupOf.set(s, s.compose.model.dir);
  // The records handed on are copies carrying the final name and group; a copy is reused while its record,
  // name and group stay the same (most of them, on an update).
  const finals = services.map((s) => finalCopy(s, nameOf.get(s)!, groupOf.get(s), input.cache));
  return { services: finals, libraries, groups, problems };
}

function finalCopy(facts: ServiceFacts, name: string, group: string | undefined, cache: ServiceCache | undefined): ServiceFacts {
  const entry = cache?.get(facts.service.id);
  const prev = entry?.final;
  // The linker keeps `libraries` up to date on the copy it is handed.
  if (prev && prev.built === facts && prev.service.name === name && prev.service.group === group) return prev;
  const hostNames = facts.hostNames.includes(name) ? facts.hostNames : [name, ...facts.hostNames];
  const copy: ServiceFacts = { ...facts, service: { ...facts.service, name, ...(group !== undefined ? { group } : {}) }, hostNames, built: facts };
  if (entry && entry.facts === facts) entry.final = copy;
  return copy;
}

/**
 * The folder a compose service builds: its context, or — when the context is a monorepo root and the Dockerfile
 * lives in a member's folder (`context: .`, `dockerfile: apps/web/Dockerfile`) — that member.
 */
function builtFolder(svc: ComposeService, findings: Map<string, Finding[]>): string | undefined {
  if (!svc.build) return undefined;
  const df = svc.build.dockerfile;
  const dfDir = df && df.includes('/') ? df.slice(0, df.lastIndexOf('/')) : df ? '.' : undefined;
  const contextIsWorkspaceRoot = (findings.get(svc.build.context) ?? []).some((f) => f.workspace);
  return dfDir && dfDir !== svc.build.context && contextIsWorkspaceRoot && findings.has(dfDir) ? dfDir : svc.build.context;
}

const withDockerfileMemo = new WeakMap<Finding[], WeakMap<Finding, Finding[]>>();
/** The folder's findings with another Dockerfile's in place of its own, memoised so cached builds stay valid. */
function withDockerfile(own: Finding[], dockerfile: Finding): Finding[] {
  let byFinding = withDockerfileMemo.get(own);
  if (!byFinding) withDockerfileMemo.set(own, (byFinding = new WeakMap()));
  let out = byFinding.get(dockerfile);
  if (!out) byFinding.set(dockerfile, (out = [...own.filter((f) => f.detector !== 'dockerfile'), dockerfile]));
  return out;
}

const entryFilesMemo = new WeakMap<Finding[], string[]>();
function entryFilesOf(fs: Finding[]): string[] {
  let files = entryFilesMemo.get(fs);
  if (!files) {
    files = [...new Set(fs.flatMap((f) => f.entryFiles ?? []))].slice(0, 6);
    entryFilesMemo.set(fs, files);
  }
  return files;
}

function depth(dir: string): number {
  if (dir === '.') return 0;
  let n = 1;
  for (let i = 0; i < dir.length; i++) if (dir.charCodeAt(i) === 47) n++;
  return n;
}

function baseName(dir: string, rootName: string): string {
  return dir === '.' ? rootName : dir.slice(dir.lastIndexOf('/') + 1);
}

/** The name people use for a folder's service: a generic folder (`src/`, `app/`...) takes its parent's name. */
function folderName(dir: string, rootName: string): string {
  let d = dir;
  while (d.includes('/') && GENERIC_FOLDERS.has(d.slice(d.lastIndexOf('/') + 1))) d = d.slice(0, d.lastIndexOf('/'));
  return baseName(d, rootName);
}

/** buildService memoised on its inputs; returns a copy the later stages may rename and annotate. */
function cachedBuild(id: string, own: Finding[], compose: { model: ComposeModel; svc: ComposeService } | undefined, input: AssembleInput, folderOverride?: string): ServiceFacts {
  const folder = folderOverride ?? id;
  // Compose may build the folder with a Dockerfile that is not the folder's own: that one's facts apply.
  const named = compose?.svc.build?.dockerfile;
  const borrowed = named && !own.some((f) => f.detector === 'dockerfile' && f.build?.dockerfile === named) ? input.dockerfile?.(named) : undefined;
  const fs = borrowed ? withDockerfile(own, borrowed) : own;
  const entryFiles = entryFilesOf(fs);
  const inputs: BuildInputs = { fs, model: compose?.model, svc: compose?.svc, version: input.folderVersion?.(folder), code: entryFiles.length ? input.codeFacts(entryFiles) : NO_CODE };
  const hit = input.cache?.get(id);
  let facts: ServiceFacts;
  if (hit && sameInputs(hit.inputs, inputs)) facts = hit.facts;
  else {
    facts = buildService(id, fs, compose, input, folderOverride);
    input.cache?.set(id, { inputs, facts });
  }
  return facts;
}

/** A program that listens on nothing: a worker when its code keeps it alive (a loop, a consumer), else a job. */
function programKind(code: { file: string; facts: CodeFacts }[], evidence: Evidence[]): 'worker' | 'job' {
  for (const { file, facts } of code) {
    const consumes = facts.topics.find((t) => t.role === 'consume');
    const why = facts.longRunning ?? (consumes && { line: consumes.line, reason: `consumes ${consumes.name}` });
    if (why) {
      evidence.push(ev(file, `listens on nothing and ${why.reason}: a worker`, why.line));
      return 'worker';
    }
  }
  const reason = 'listens on nothing and has no loop, scheduler or consumer: a job that runs to completion';
  evidence.push(ev(code[0].file, reason));
  return 'job';
}

function buildService(id: string, fs: Finding[], compose: { model: ComposeModel; svc: ComposeService } | undefined, input: AssembleInput, folderOverride?: string): ServiceFacts {
  const folder = folderOverride ?? id;
  const svc = compose?.svc;
  const kyozo = fs.find((f) => f.detector === 'kyozo.yaml');
  const ranked = [...fs].filter((f) => f.type).sort((a, b) => (b.rank ?? 0) - (a.rank ?? 0));
  const evidence: Evidence[] = [];
  if (svc) evidence.push(ev(svc.file, svc.build ? `compose service ${svc.name} builds this folder` : `compose service ${svc.name}`, svc.line));
  for (const f of fs) evidence.push(...f.evidence);

  // Image services: compose image, kyozo.yaml image, or a Dockerfile FROM a data store.
  const image = kyozo?.image ?? (svc && !svc.build ? svc.image : undefined);
  const imgInfo = image ? imageInfo(image) : undefined;
  const dataEngine = imgInfo?.engine ?? fs.find((f) => f.dataEngine)?.dataEngine;

  const language = fs.find((f) => f.language && f.detector !== 'dockerfile')?.language ?? fs.find((f) => f.language)?.language;
  const frameworks = [...new Set(fs.flatMap((f) => f.frameworks ?? []))];

  // Code facts of the entry files.
  const entryFiles = entryFilesOf(fs);
  const code = entryFiles.length ? input.codeFacts(entryFiles).map((facts, i) => ({ file: entryFiles[i], facts })) : [];
  if (language === 'go' && frameworks.length === 0 && code.some((c) => c.facts.imports.some((i) => i.module === 'net/http'))) frameworks.push('net/http');
  const codePorts: PortSpec[] = [];
  for (const { file, facts } of code) {
    for (const p of facts.ports) codePorts.push({ container: p.port, protocol: 'tcp', source: 'code', envVar: p.envVar, evidence: ev(file, p.reason, p.line) });
  }

  // Ports, strongest source first; defaults only when nothing better is known.
  const allPorts: PortSpec[] = [...(kyozo?.ports ?? []), ...(svc?.ports ?? []), ...fs.filter((f) => f !== kyozo).flatMap((f) => f.ports ?? []), ...codePorts];
  if (imgInfo?.port && svc && !svc.build) allPorts.push({ container: imgInfo.port, protocol: 'tcp', source: 'image-default', evidence: ev(svc.file, `${image} listens on ${imgInfo.port} by default`, svc.line) });
  allPorts.sort((a, b) => PORT_STRENGTH.indexOf(a.source) - PORT_STRENGTH.indexOf(b.source));
  const ports: PortSpec[] = [];
  for (const p of allPorts) {
    const existing = ports.find((x) => x.container === p.container && x.protocol === p.protocol);
    if (existing) {
      if (p.host !== undefined && existing.host === undefined) existing.host = p.host;
      if (p.envVar && !existing.envVar) existing.envVar = p.envVar;
      continue;
    }
    ports.push({ ...p });
  }
  const strongest = ports[0]?.source;
  const meaningful = ports.filter((p, i) => i === 0 || !(p.source === 'framework-default' || p.source === 'image-default') || strongest === p.source);
  // A code port read from `process.env.PORT || 3000` confirms a script's PORT=; keep both but the script wins.

  const starts = [kyozo?.start, svc?.start, ...fs.filter((f) => f !== kyozo).map((f) => f.start)].filter((s): s is StartSpec => !!s);
  starts.sort((a, b) => START_STRENGTH.indexOf(a.source) - START_STRENGTH.indexOf(b.source));
  const start = starts[0];

  // Type: kyozo.yaml, then images, then a worker, then the best-ranked detector.
  let type = kyozo?.type ?? imgInfo?.type ?? ranked[0]?.type ?? (svc?.build ? 'containerized' : 'containerized');
  const workerCommand = !!svc?.start && /\b(celery\b.*\bworker|celery\b.*\bbeat|rq\s+worker|sidekiq|dramatiq|huey_consumer|arq\s)/.test(svc.start.command) && svc.ports.length === 0;
  const worker = workerCommand || (fs.some((f) => f.worker) && !fs.some((f) => f.worker === false && f.frameworks?.length) && !meaningful.some((p) => p.source !== 'framework-default'));
  const httpFramework = fs.some((f) => (f.ports ?? []).some((p) => p.source === 'framework-default') && !f.worker);
  const job = !worker && fs.some((f) => f.job) && !meaningful.some((p) => p.source !== 'framework-default');
  if (!kyozo?.type && !imgInfo && worker && (!httpFramework || workerCommand)) type = 'worker';
  else if (!kyozo?.type && !imgInfo && job && !httpFramework) type = 'job';
  // Something that starts, listens on nothing and serves no HTTP framework is a background worker (a queue or
  // stream consumer, a scheduler, a bot) when its code keeps it alive, else a job that runs to completion — once
  // its code was read and no listen call was found in it.
  const LANGUAGE_TYPES = ['nodejs', 'python', 'golang', 'rust', 'java', 'php', 'ruby', 'dotnet', 'elixir', 'gleam', 'deno',
    'cpp'];
  const listensOnNothing = meaningful.length === 0 && !httpFramework && !fs.some((f) => f.frontend);
  if (!kyozo?.type && !imgInfo && type !== 'worker' && type !== 'job' && LANGUAGE_TYPES.includes(type) && start &&
      code.length > 0 && listensOnNothing) {
    type = programKind(code, evidence);
  }
  // A worker sharing its folder's image (compose `command: celery ... worker`) listens on nothing the image EXPOSEs.
  const ownPort = (p: PortSpec) =>
    (workerCommand ? p.source === 'compose' || p.source === 'kyozo.yaml' : p.source !== 'framework-default');
  const finalPorts = type === 'worker' || type === 'job' ? meaningful.filter(ownPort) : meaningful;

  // Build: the Dockerfile, compose's build section, the language toolchain for a generated one.
  const dockerFinding = fs.find((f) => f.detector === 'dockerfile');
  const langBuild = fs.find((f) => f.build?.runtime)?.build;
  let build: Service['build'];
  if (!image || svc?.build) {
    // A generated Node image of a workspace member builds from the workspace root; a Dockerfile from its folder.
    const context = svc?.build?.context ?? (dockerFinding ? undefined : langBuild?.context) ?? (folder === '.' ? '' : folder);
    build = {
      context: context === '.' ? '' : context,
      dockerfile: kyozo?.build?.dockerfile ?? svc?.build?.dockerfile ?? dockerFinding?.build?.dockerfile,
      target: svc?.build?.target, args: svc?.build?.args,
      runtime: langBuild?.runtime, packageManager: langBuild?.packageManager, baseImage: kyozo?.build?.baseImage,
      ...(kyozo?.build?.command ? { command: kyozo.build.command } : {}),
      node: svc?.build || dockerFinding ? undefined : langBuild?.node,
      evidence: svc?.build?.evidence ?? dockerFinding?.build?.evidence ?? langBuild?.evidence ?? ev(folder, 'built from the folder'),
    };
    if (!build.runtime && type === 'proxy') build.runtime = 'static';
  }

  // Environment: kyozo.yaml > compose > .env > Dockerfile ENV > variables the code reads.
  const env: EnvVar[] = [];
  const addEnv = (e: EnvVar) => {
    if (!env.some((x) => x.name === e.name)) env.push(e);
  };
  (kyozo?.env ?? []).forEach(addEnv);
  (svc?.env ?? []).forEach(addEnv);
  if (!image) input.dotEnv(folder).forEach(addEnv);
  fs.filter((f) => f !== kyozo).flatMap((f) => f.env ?? []).forEach(addEnv);
  for (const { file, facts } of code) facts.envReads.forEach((r) => addEnv({ name: r.name, value: r.defaultValue, secret: isSecretName(r.name), evidence: ev(file, `code reads ${r.name}`, r.line) }));

  // Health: declared checks, then a health route the code defines, then a TCP probe for data stores.
  let healthCheck: HealthCheck | undefined = kyozo?.healthCheck ?? svc?.healthCheck ?? fs.find((f) => f.healthCheck)?.healthCheck;
  if (!healthCheck) {
    for (const { file, facts } of code) {
      const route = facts.routes.find((r) => HEALTH_PATHS.test(r.path.startsWith('/') ? r.path : `/${r.path}`));
      if (route && type !== 'worker' && type !== 'job') {
        healthCheck = { kind: 'http', path: route.path.startsWith('/') ? route.path : `/${route.path}`, port: finalPorts[0]?.container, evidence: ev(file, `${route.method ? `${route.method.toUpperCase()} ` : ''}${route.path} route`, route.line) };
        break;
      }
    }
  }
  if (!healthCheck && type !== 'worker' && type !== 'job') {
    healthCheck = fs.find((f) => f.frameworkHealth)?.frameworkHealth;
    const port = finalPorts[0]?.container;
    if (healthCheck && port !== undefined) healthCheck = { ...healthCheck, port };
  }
  if (!healthCheck && type !== 'worker' && type !== 'job') {
    // grpc.health.v1.Health registered in code: probe it rather than an open port.
    for (const { file, facts } of code) {
      const health = (facts.grpc ?? []).find((g) => g.role === 'server' && g.service === GRPC_HEALTH);
      if (health) {
        const evidence = ev(file, `registers the gRPC health service (${health.reason})`, health.line);
        healthCheck = { kind: 'grpc', port: finalPorts[0]?.container, evidence };
        break;
      }
    }
  }
  if (!healthCheck && finalPorts[0] && (type === 'database' || type === 'cache' || type === 'queue')) {
    healthCheck = { kind: 'tcp', port: finalPorts[0].container, evidence: finalPorts[0].evidence };
  }

  const name = dnsName(kyozo?.override?.name ?? svc?.name ?? folderName(folder, input.rootName));
  const confidences = fs.map((f) => f.confidence);
  if (svc) confidences.push(svc.build ? 0.95 : 0.9);
  const indicators = [...new Set([...(svc ? [svc.file] : []), ...fs.flatMap((f) => f.indicators)])];

  // Optional fields are left out rather than deleted afterwards: `delete` drops V8's fast object layout, and every
  // update copies these records.
  const resources = kyozo?.override?.resources ?? svc?.resources;
  // A folder override is given only to compose services that do not own their folder (assemble names them file#name).
  const composeOnly = folderOverride !== undefined && compose
    ? { file: compose.model.files[0], name: compose.svc.name }
    : undefined;
  const service: Service = {
    id, name, folder, type, ...(language !== undefined ? { language } : {}), frameworks,
    confidence: combineConfidence(confidences), evidence: dedupeEvidence(evidence).slice(0, 16), ports: finalPorts,
    ...(start ? { start } : {}), ...(build ? { build } : {}), ...(image ? { image } : {}),
    env, ...(healthCheck ? { healthCheck } : {}), replicas: kyozo?.override?.replicas ?? svc?.replicas ?? 1,
    ...(resources ? { resources } : {}), ...(svc?.volumes.length ? { volumes: svc.volumes } : {}), indicators,
    ...(composeOnly ? { composeOnly } : {}),
  };

  const declaredDeps: ServiceFacts['declaredDeps'] = [
    ...(svc?.dependsOn ?? []).map((d) => ({ ...d, compose: compose!.model })),
    ...(svc?.links ?? []).map((d) => ({ ...d, compose: compose!.model, links: true })),
    ...(kyozo?.override?.dependsOn ?? []),
  ];
  return {
    service, dependencies: fs.flatMap((f) => f.dependencies ?? []), upstreams: fs.flatMap((f) => f.upstreams ?? []), dataEngine,
    packageName: fs.find((f) => f.packageName)?.packageName, code, declaredDeps, compose, frontend: fs.some((f) => f.frontend),
    hostNames: [...new Set([name, ...(svc ? [svc.name, ...svc.aliases] : [])])],
    exposed: fs.filter((f) => f.detector === 'dockerfile').flatMap((f) => f.ports ?? []).map((p) => p.container),
  };
}

function dedupeEvidence(list: Evidence[]): Evidence[] {
  const seen = new Set<string>();
  return list.filter((e) => {
    const k = `${e.file}:${e.line ?? ''}:${e.reason}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
