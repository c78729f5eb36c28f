// One service record from everything known about its folder: the detectors' findings, the compose service that
// builds or runs it, kyozo.yaml and the facts of its entry files' code. Each field is decided by its own phase,
// strongest source first, with the evidence for it.
import type {
  EnvVar,
  Evidence,
  HealthCheck,
  PortSource,
  PortSpec,
  Service,
  ServiceType,
  StartSpec,
} from '../../protocol';
import { GRPC_HEALTH, type CodeFacts } from '../code/code-facts';
import type { ComposeModel, ComposeService } from '../compose/compose-import';
import { imageInfo } from '../detect/catalog';
import { ev } from '../parse/evidence';
import { isSecretName } from '../parse/secret-names';
import { dnsName } from '../detect/service-names';
import type { Finding } from '../detect/types';
import type { AssembleInput, ServiceFacts } from './assemble';

const PORT_STRENGTH: PortSource[] = [
  'kyozo.yaml',
  'compose',
  'dockerfile',
  'procfile',
  'script',
  'config',
  'code',
  'image-default',
  'framework-default',
];
const START_STRENGTH: StartSpec['source'][] = [
  'kyozo.yaml',
  'compose',
  'procfile',
  'dockerfile',
  'script',
  'manifest',
  'framework-default',
];
const HEALTH_PATHS = new RegExp(
  '^/(health|healthz|_healthz|healthcheck|ready|readyz|readiness|live|livez|liveness|' +
    'status|ping|_health|' +
    'api/health|api/healthz|health/live|health/ready|health/liveness|health/readiness|actuator/health|up)/?$',
);
// A manifest in one of these folders belongs to the project around it: `src/cartservice/src/cartservice.csproj`.
export const GENERIC_FOLDERS = new Set(['src', 'app', 'server', 'backend']);
const LANGUAGE_TYPES = [
  'nodejs',
  'python',
  'golang',
  'rust',
  'java',
  'php',
  'ruby',
  'dotnet',
  'elixir',
  'gleam',
  'deno',
  'cpp',
];

type Compose = { model: ComposeModel; svc: ComposeService };
type Code = { file: string; facts: CodeFacts }[];
type ImageInfo = ReturnType<typeof imageInfo>;

/** What every phase reads: the folder's findings, its compose service and kyozo.yaml, and its code facts. */
interface RecordScope {
  id: string;
  folder: string;
  fs: Finding[];
  svc: ComposeService | undefined;
  kyozo: Finding | undefined;
  image: string | undefined;
  imgInfo: ImageInfo;
  code: Code;
  /** Evidence of the whole record; phases add to it (a worker's reason, for one). */
  evidence: Evidence[];
}

export function baseName(dir: string, rootName: string): string {
  return dir === '.' ? rootName : dir.slice(dir.lastIndexOf('/') + 1);
}

/** The name people use for a folder's service: a generic folder (`src/`, `app/`...) takes its parent's name. */
function folderName(dir: string, rootName: string): string {
  let d = dir;
  while (d.includes('/') && GENERIC_FOLDERS.has(d.slice(d.lastIndexOf('/') + 1))) d = d.slice(0, d.lastIndexOf('/'));
  return baseName(d, rootName);
}

function combineConfidence(values: number[]): number {
  const p = values.reduce((acc, c) => acc * (1 - Math.min(0.95, Math.max(0, c))), 1);
  return Math.round(Math.min(0.99, 1 - p) * 100) / 100;
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

const entryFilesMemo = new WeakMap<Finding[], string[]>();
export function entryFilesOf(fs: Finding[]): string[] {
  let files = entryFilesMemo.get(fs);
  if (!files) {
    files = [...new Set(fs.flatMap((f) => f.entryFiles ?? []))].slice(0, 6);
    entryFilesMemo.set(fs, files);
  }
  return files;
}

export function buildService(
  id: string,
  fs: Finding[],
  compose: Compose | undefined,
  input: AssembleInput,
  folderOverride?: string,
): ServiceFacts {
  const scope = recordScope(id, fs, compose, input, folderOverride);
  const { folder, svc, kyozo, image, imgInfo, code, evidence } = scope;
  const dataEngine = imgInfo?.engine ?? fs.find((f) => f.dataEngine)?.dataEngine;
  const language =
    fs.find((f) => f.language && f.detector !== 'dockerfile')?.language ?? fs.find((f) => f.language)?.language;
  const frameworks = [...new Set(fs.flatMap((f) => f.frameworks ?? []))];
  if (
    language === 'go' &&
    frameworks.length === 0 &&
    code.some((c) => c.facts.imports.some((i) => i.module === 'net/http'))
  )
    frameworks.push('net/http');
  const meaningful = servicePorts(scope);
  const start = serviceStart(scope);
  const { type, finalPorts } = serviceType(scope, meaningful, start);
  const build = serviceBuild(scope, type);
  const env = serviceEnv(scope, input);
  const healthCheck = serviceHealth(scope, type, finalPorts);

  const name = dnsName(kyozo?.override?.name ?? svc?.name ?? folderName(folder, input.rootName));
  const confidences = fs.map((f) => f.confidence);
  if (svc) confidences.push(svc.build ? 0.95 : 0.9);
  const indicators = [...new Set([...(svc ? [svc.file] : []), ...fs.flatMap((f) => f.indicators)])];

  // Optional fields are left out rather than deleted afterwards: `delete` drops V8's fast object layout, and every
  // update copies these records.
  const resources = kyozo?.override?.resources ?? svc?.resources;
  // A folder override is given only to compose services that do not own their folder (assemble names them file#name).
  const composeOnly =
    folderOverride !== undefined && compose ? { file: compose.model.files[0], name: compose.svc.name } : undefined;
  const service: Service = {
    id,
    name,
    folder,
    type,
    ...(language !== undefined ? { language } : {}),
    frameworks,
    confidence: combineConfidence(confidences),
    evidence: dedupeEvidence(evidence).slice(0, 16),
    ports: finalPorts,
    ...(start ? { start } : {}),
    ...(build ? { build } : {}),
    ...(image ? { image } : {}),
    env,
    ...(healthCheck ? { healthCheck } : {}),
    replicas: kyozo?.override?.replicas ?? svc?.replicas ?? 1,
    ...(resources ? { resources } : {}),
    ...(kyozo?.override?.scaling ? { scaling: kyozo.override.scaling } : {}),
    ...(svc?.volumes.length ? { volumes: svc.volumes } : {}),
    indicators,
    ...(composeOnly ? { composeOnly } : {}),
  };

  const declaredDeps: ServiceFacts['declaredDeps'] = [
    ...(svc?.dependsOn ?? []).map((d) => ({ ...d, compose: compose!.model })),
    ...(svc?.links ?? []).map((d) => ({ ...d, compose: compose!.model, links: true })),
    ...(kyozo?.override?.dependsOn ?? []),
  ];
  return {
    service,
    dependencies: fs.flatMap((f) => f.dependencies ?? []),
    upstreams: fs.flatMap((f) => f.upstreams ?? []),
    dataEngine,
    packageName: fs.find((f) => f.packageName)?.packageName,
    code,
    declaredDeps,
    compose,
    frontend: fs.some((f) => f.frontend),
    hostNames: [...new Set([name, ...(svc ? [svc.name, ...svc.aliases] : [])])],
    exposed: fs
      .filter((f) => f.detector === 'dockerfile')
      .flatMap((f) => f.ports ?? [])
      .map((p) => p.container),
  };
}

function recordScope(
  id: string,
  fs: Finding[],
  compose: Compose | undefined,
  input: AssembleInput,
  folderOverride?: string,
): RecordScope {
  const svc = compose?.svc;
  const kyozo = fs.find((f) => f.detector === 'kyozo.yaml');
  const evidence: Evidence[] = [];
  if (svc) {
    const why = svc.build ? `compose service ${svc.name} builds this folder` : `compose service ${svc.name}`;
    evidence.push(ev(svc.file, why, svc.line));
  }
  for (const f of fs) evidence.push(...f.evidence);
  // Image services: compose image, kyozo.yaml image, or a Dockerfile FROM a data store.
  const image = kyozo?.image ?? (svc && !svc.build ? svc.image : undefined);
  const imgInfo = image ? imageInfo(image) : undefined;
  const entryFiles = entryFilesOf(fs);
  const code = entryFiles.length ? input.codeFacts(entryFiles).map((facts, i) => ({ file: entryFiles[i], facts })) : [];
  return { id, folder: folderOverride ?? id, fs, svc, kyozo, image, imgInfo, code, evidence };
}

/** Ports, strongest source first; defaults only when nothing better is known. */
function servicePorts({ fs, svc, kyozo, image, imgInfo, code }: RecordScope): PortSpec[] {
  const codePorts: PortSpec[] = [];
  for (const { file, facts } of code) {
    for (const p of facts.ports) {
      codePorts.push({
        container: p.port,
        protocol: 'tcp',
        source: 'code',
        envVar: p.envVar,
        evidence: ev(file, p.reason, p.line),
      });
    }
  }
  const allPorts: PortSpec[] = [
    ...(kyozo?.ports ?? []),
    ...(svc?.ports ?? []),
    ...fs.filter((f) => f !== kyozo).flatMap((f) => f.ports ?? []),
    ...codePorts,
  ];
  if (imgInfo?.port && svc && !svc.build) {
    const evidence = ev(svc.file, `${image} listens on ${imgInfo.port} by default`, svc.line);
    allPorts.push({ container: imgInfo.port, protocol: 'tcp', source: 'image-default', evidence });
  }
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
  // A code port read from `process.env.PORT || 3000` confirms a script's PORT=; keep both but the script wins.
  return ports.filter(
    (p, i) => i === 0 || !(p.source === 'framework-default' || p.source === 'image-default') || strongest === p.source,
  );
}

function serviceStart({ fs, svc, kyozo }: RecordScope): StartSpec | undefined {
  const starts = [kyozo?.start, svc?.start, ...fs.filter((f) => f !== kyozo).map((f) => f.start)].filter(
    (s): s is StartSpec => !!s,
  );
  starts.sort((a, b) => START_STRENGTH.indexOf(a.source) - START_STRENGTH.indexOf(b.source));
  return starts[0];
}

/** Type: kyozo.yaml, then images, then a worker or a job, then the best-ranked detector; and the ports it keeps. */
function serviceType(
  scope: RecordScope,
  meaningful: PortSpec[],
  start: StartSpec | undefined,
): { type: ServiceType; finalPorts: PortSpec[] } {
  const { fs, svc, kyozo, imgInfo, code, evidence } = scope;
  const ranked = [...fs].filter((f) => f.type).sort((a, b) => (b.rank ?? 0) - (a.rank ?? 0));
  let type = kyozo?.type ?? imgInfo?.type ?? ranked[0]?.type ?? 'containerized';
  const workerCommand =
    !!svc?.start &&
    svc.ports.length === 0 &&
    /\b(celery\b.*\bworker|celery\b.*\bbeat|rq\s+worker|sidekiq|dramatiq|huey_consumer|arq\s)/.test(svc.start.command);
  const worker =
    workerCommand ||
    (fs.some((f) => f.worker) &&
      !fs.some((f) => f.worker === false && f.frameworks?.length) &&
      !meaningful.some((p) => p.source !== 'framework-default'));
  const httpFramework = fs.some((f) => (f.ports ?? []).some((p) => p.source === 'framework-default') && !f.worker);
  const job = !worker && fs.some((f) => f.job) && !meaningful.some((p) => p.source !== 'framework-default');
  if (!kyozo?.type && !imgInfo && worker && (!httpFramework || workerCommand)) type = 'worker';
  else if (!kyozo?.type && !imgInfo && job && !httpFramework) type = 'job';
  // Something that starts, listens on nothing and serves no HTTP framework is a background worker (a queue or
  // stream consumer, a scheduler, a bot) when its code keeps it alive, else a job that runs to completion — once
  // its code was read and no listen call was found in it.
  const listensOnNothing = meaningful.length === 0 && !httpFramework && !fs.some((f) => f.frontend);
  if (
    !kyozo?.type &&
    !imgInfo &&
    type !== 'worker' &&
    type !== 'job' &&
    LANGUAGE_TYPES.includes(type) &&
    start &&
    code.length > 0 &&
    listensOnNothing
  ) {
    type = programKind(code, evidence);
  }
  // A worker sharing its folder's image (compose `command: celery ... worker`) listens on nothing the image EXPOSEs.
  const ownPort = (p: PortSpec) =>
    workerCommand ? p.source === 'compose' || p.source === 'kyozo.yaml' : p.source !== 'framework-default';
  return { type, finalPorts: type === 'worker' || type === 'job' ? meaningful.filter(ownPort) : meaningful };
}

/** A program that listens on nothing: a worker when its code keeps it alive (a loop, a consumer), else a job. */
function programKind(code: Code, evidence: Evidence[]): 'worker' | 'job' {
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

/** Build: the Dockerfile, compose's build section, the language toolchain for a generated one. */
function serviceBuild({ folder, fs, svc, kyozo, image }: RecordScope, type: ServiceType): Service['build'] {
  if (image && !svc?.build) return undefined;
  const dockerFinding = fs.find((f) => f.detector === 'dockerfile');
  const langBuild = fs.find((f) => f.build?.runtime)?.build;
  // A generated Node image of a workspace member builds from the workspace root; a Dockerfile from its folder.
  const context =
    svc?.build?.context ?? (dockerFinding ? undefined : langBuild?.context) ?? (folder === '.' ? '' : folder);
  const build: NonNullable<Service['build']> = {
    context: context === '.' ? '' : context,
    dockerfile: kyozo?.build?.dockerfile ?? svc?.build?.dockerfile ?? dockerFinding?.build?.dockerfile,
    target: svc?.build?.target,
    args: svc?.build?.args,
    runtime: langBuild?.runtime,
    packageManager: langBuild?.packageManager,
    baseImage: kyozo?.build?.baseImage,
    ...(kyozo?.build?.command ? { command: kyozo.build.command } : {}),
    node: svc?.build || dockerFinding ? undefined : langBuild?.node,
    evidence:
      svc?.build?.evidence ??
      dockerFinding?.build?.evidence ??
      langBuild?.evidence ??
      ev(folder, 'built from the folder'),
  };
  if (!build.runtime && type === 'proxy') build.runtime = 'static';
  return build;
}

/** Environment: kyozo.yaml > compose > .env > Dockerfile ENV > variables the code reads. */
function serviceEnv({ folder, fs, svc, kyozo, image, code }: RecordScope, input: AssembleInput): EnvVar[] {
  const env: EnvVar[] = [];
  const addEnv = (e: EnvVar) => {
    if (!env.some((x) => x.name === e.name)) env.push(e);
  };
  (kyozo?.env ?? []).forEach(addEnv);
  (svc?.env ?? []).forEach(addEnv);
  if (!image) input.dotEnv(folder).forEach(addEnv);
  fs.filter((f) => f !== kyozo)
    .flatMap((f) => f.env ?? [])
    .forEach(addEnv);
  for (const { file, facts } of code) {
    facts.envReads.forEach((r) =>
      addEnv({
        name: r.name,
        value: r.defaultValue,
        secret: isSecretName(r.name),
        evidence: ev(file, `code reads ${r.name}`, r.line),
      }),
    );
  }
  return env;
}

/** Health: declared checks, then a health route the code defines, then a TCP probe for data stores. */
function serviceHealth(
  { fs, svc, kyozo, code }: RecordScope,
  type: ServiceType,
  finalPorts: PortSpec[],
): HealthCheck | undefined {
  const runsToEnd = type === 'worker' || type === 'job';
  let healthCheck: HealthCheck | undefined =
    kyozo?.healthCheck ?? svc?.healthCheck ?? fs.find((f) => f.healthCheck)?.healthCheck;
  if (!healthCheck) {
    for (const { file, facts } of code) {
      const route = facts.routes.find((r) => HEALTH_PATHS.test(r.path.startsWith('/') ? r.path : `/${r.path}`));
      if (route && !runsToEnd) {
        const path = route.path.startsWith('/') ? route.path : `/${route.path}`;
        const evidence = ev(
          file,
          `${route.method ? `${route.method.toUpperCase()} ` : ''}${route.path} route`,
          route.line,
        );
        healthCheck = { kind: 'http', path, port: finalPorts[0]?.container, evidence };
        break;
      }
    }
  }
  if (!healthCheck && !runsToEnd) {
    healthCheck = fs.find((f) => f.frameworkHealth)?.frameworkHealth;
    const port = finalPorts[0]?.container;
    if (healthCheck && port !== undefined) healthCheck = { ...healthCheck, port };
  }
  if (!healthCheck && !runsToEnd) {
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
  return healthCheck;
}
