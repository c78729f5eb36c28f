// Compose export: the Topology as a compose file (compose-spec valid; also accepted by Debian's
// docker-compose v1) so a stack Kyozo runs can be run, reviewed or committed as plain compose.
// Paths in the file are relative to where it will be written; folders without a Dockerfile get the
// Dockerfile Kyozo would generate, returned separately so the caller writes it next to the compose
// file (never into the service folder).
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join, relative } from 'node:path';
import { stringify } from 'yaml';
import type { Service, Topology } from '../../protocol';
import { generateDockerfile } from '../deploy/dockerfile-generator';
import { deployable } from '../deploy/service-selection';
import { Label, projectName } from '../deploy/labels';
import type { Runtime } from '../deploy/orchestrator';
import { dataKind } from '../deploy/service-env';

export interface ComposeExportOptions {
  /** Folder the compose file will be written to (default: the topology root). */
  outputDir?: string;
  /** Where generated Dockerfiles go, relative to outputDir (default `.kyozo/dockerfiles`). */
  dockerfilesDir?: string;
  baseImages?: Partial<Record<Runtime, string>>;
  defaults?: { memoryMb?: number; cpus?: number };
}

export interface ComposeExport {
  /** The compose document as plain data (what `yaml` holds). */
  document: Record<string, unknown>;
  yaml: string;
  /** Generated Dockerfiles to write: path relative to outputDir → text. */
  dockerfiles: Record<string, string>;
}

const DB_DEFAULTS: Record<
  string,
  { port: number; env: (name: string) => Record<string, string>; data: string; test: string[] }
> = {
  postgres: {
    port: 5432,
    env: (db) => ({ POSTGRES_USER: 'kyozo', POSTGRES_PASSWORD: '${KYOZO_DB_PASSWORD:-kyozo-dev}', POSTGRES_DB: db }),
    data: '/var/lib/postgresql/data',
    test: ['CMD-SHELL', 'pg_isready -U kyozo'],
  },
  mysql: {
    port: 3306,
    env: (db) => ({
      MYSQL_USER: 'kyozo',
      MYSQL_PASSWORD: '${KYOZO_DB_PASSWORD:-kyozo-dev}',
      MYSQL_DATABASE: db,
      MYSQL_ROOT_PASSWORD: '${KYOZO_DB_PASSWORD:-kyozo-dev}',
    }),
    data: '/var/lib/mysql',
    test: ['CMD-SHELL', 'mysqladmin ping -h 127.0.0.1 --silent'],
  },
  mongo: {
    port: 27017,
    env: (db) => ({
      MONGO_INITDB_ROOT_USERNAME: 'kyozo',
      MONGO_INITDB_ROOT_PASSWORD: '${KYOZO_DB_PASSWORD:-kyozo-dev}',
      MONGO_INITDB_DATABASE: db,
    }),
    data: '/data/db',
    test: [
      'CMD-SHELL',
      'mongosh --quiet --eval "db.adminCommand(\'ping\')" || mongo --quiet --eval "db.adminCommand(\'ping\')"',
    ],
  },
  redis: { port: 6379, env: () => ({}), data: '/data', test: ['CMD-SHELL', 'redis-cli ping | grep PONG'] },
};

function seconds(n: number | undefined, fallback: number): string {
  return `${n ?? fallback}s`;
}

function posix(p: string): string {
  return p.split('\\').join('/');
}

function rel(from: string, to: string): string {
  const r = posix(relative(from, to));
  return r === '' ? '.' : r.startsWith('.') || isAbsolute(r) ? r : `./${r}`;
}

function envName(name: string): string {
  return name.toUpperCase().replace(/[^A-Z0-9]+/g, '_');
}

/** A healthcheck that runs inside the container: the image's own, else one that uses node (node images) or wget/curl/nc. */
function healthcheckFor(service: Service): Record<string, unknown> | undefined {
  const hc = service.healthCheck;
  // Every 10 s unless written down, with failures in the first 60 s not counted: an exec every 2 s per container
  // kept a 2-core machine above load 100 with 100 services.
  const timing = {
    interval: seconds(hc?.intervalSeconds, 10),
    timeout: seconds(hc?.timeoutSeconds, 5),
    retries: hc?.retries ?? 3,
    start_period: '60s',
  };
  if (hc?.kind === 'command' && hc.command?.length) {
    const test = ['CMD', 'CMD-SHELL', 'NONE'].includes(hc.command[0]!)
      ? hc.command
      : hc.command.length === 1
        ? ['CMD-SHELL', hc.command[0]!]
        : ['CMD', ...hc.command];
    return { test, ...timing };
  }
  const kind = dataKind(service);
  if (kind && DB_DEFAULTS[kind]) return { test: DB_DEFAULTS[kind].test, ...timing };
  const port = hc?.port ?? service.ports.find((p) => p.protocol === 'tcp')?.container;
  if (!port) return undefined;
  const node = service.type === 'nodejs' || service.build?.runtime === 'node';
  if (hc?.kind === 'http' && hc.path) {
    const url = `http://127.0.0.1:${port}${hc.path}`;
    const test = node
      ? [
          'CMD',
          'node',
          '-e',
          `require('http').get('${url}',r=>process.exit(r.statusCode<400?0:1)).on('error',()=>process.exit(1))`,
        ]
      : ['CMD-SHELL', `wget -q -O /dev/null ${url} || curl -fsS -o /dev/null ${url}`];
    return { test, ...timing };
  }
  const test = node
    ? [
        'CMD',
        'node',
        '-e',
        `require('net').connect(${port},'127.0.0.1').on('connect',()=>process.exit(0)).on('error',()=>process.exit(1))`,
      ]
    : ['CMD-SHELL', `nc -z 127.0.0.1 ${port} || wget -q -O /dev/null http://127.0.0.1:${port}/ || exit 1`];
  return { test, ...timing };
}

export function exportCompose(topology: Topology, options: ComposeExportOptions = {}): ComposeExport {
  const outputDir = options.outputDir ?? topology.root;
  const dockerfilesDir = options.dockerfilesDir ?? '.kyozo/dockerfiles';
  // An environment's compose project is its own (`shop-staging`), as `kyozo up --env` names it.
  const project = projectName(topology.environment ? `${topology.name}-${topology.environment.name}` : topology.name);
  const services: Record<string, Record<string, unknown>> = {};
  const volumes: Record<string, Record<string, unknown>> = {};
  const dockerfiles: Record<string, string> = {};
  const runnable = topology.services.filter(deployable);
  const byId = new Map(runnable.map((s) => [s.id, s]));
  const health = new Map(runnable.map((s) => [s.id, healthcheckFor(s)]));

  for (const s of runnable) {
    const out: Record<string, unknown> = {};
    if (s.build || !s.image) {
      const contextDir = join(topology.root, s.build?.context ?? (s.folder === '.' ? '' : s.folder));
      const build: Record<string, unknown> = { context: rel(outputDir, contextDir) };
      if (s.build?.dockerfile) {
        build.dockerfile = posix(relative(contextDir, join(topology.root, s.build.dockerfile)));
      } else {
        const file = posix(join(dockerfilesDir, `${s.name}.Dockerfile`));
        dockerfiles[file] = generateDockerfile(s, options.baseImages);
        // Relative to the context, as compose resolves it; a Dockerfile outside the context is allowed.
        build.dockerfile = posix(relative(contextDir, join(outputDir, file)));
      }
      if (s.build?.target) build.target = s.build.target;
      if (s.build?.args && Object.keys(s.build.args).length) build.args = s.build.args;
      out.build = build;
      out.image = `kyozo-${project}/${s.name}:latest`;
    } else {
      out.image = s.image;
    }
    if (s.start && (s.start.source === 'compose' || s.start.source === 'kyozo.yaml'))
      out.command = s.start.argv?.length ? s.start.argv : s.start.command;

    const environment: Record<string, string> = {};
    const kind = dataKind(s);
    if (kind && DB_DEFAULTS[kind]) Object.assign(environment, DB_DEFAULTS[kind].env(s.name.replace(/-/g, '_')));
    for (const p of s.ports) if (p.envVar) environment[p.envVar] = String(p.container);
    const dependsOn: Record<string, { condition: string }> = {};
    for (const e of topology.edges) {
      // A queue links a sender to a receiver but neither waits for the other, and replies would make a cycle.
      if (e.from !== s.id || e.kind === 'broker') continue;
      const dep = byId.get(e.to);
      if (!dep || dep.id === s.id) continue;
      const depKind = dataKind(dep);
      const port = dep.ports[0]?.container ?? (depKind ? DB_DEFAULTS[depKind]?.port : undefined) ?? 80;
      let url = `http://${dep.name}:${port}`;
      if (depKind === 'postgres' || depKind === 'mysql' || depKind === 'mongo') {
        const scheme = depKind === 'postgres' ? 'postgres' : depKind === 'mysql' ? 'mysql' : 'mongodb';
        url = `${scheme}://kyozo:\${KYOZO_DB_PASSWORD:-kyozo-dev}@${dep.name}:${port}/${dep.name.replace(/-/g, '_')}`;
        environment.DATABASE_URL ??= url;
      } else if (depKind === 'redis') {
        url = `redis://${dep.name}:${port}`;
        environment.REDIS_URL ??= url;
      }
      environment[`${envName(dep.name)}_URL`] ??= url;
      if (e.envVar) environment[e.envVar] ??= url;
      const condition = e.condition ?? (health.get(dep.id) ? 'service_healthy' : 'service_started');
      if (dependsOn[dep.name]?.condition !== 'service_healthy') dependsOn[dep.name] = { condition };
    }
    for (const v of s.env) {
      if (v.value === undefined) continue;
      // Secret-looking literals are not copied into a file people commit: they become variables.
      environment[v.name] = v.secret
        ? `\${${v.name}:?set ${v.name} in the environment or an .env file}`
        : v.value.replace(/\$/g, '$$$$');
    }
    if (Object.keys(environment).length) out.environment = environment;
    if (Object.keys(dependsOn).length) out.depends_on = dependsOn;

    const ports = s.ports.filter(
      (p, i) => s.ports.findIndex((x) => x.container === p.container && x.protocol === p.protocol) === i,
    );
    if (ports.length) {
      // Short syntax: the long one's host_ip is not understood by docker-compose v1.
      out.ports = ports.map((p) => `127.0.0.1:${p.host ?? ''}:${p.container}${p.protocol === 'udp' ? '/udp' : ''}`);
      out.expose = ports.map((p) => String(p.container));
    }
    const hc = health.get(s.id);
    if (hc) out.healthcheck = hc;

    const vols: string[] = [];
    for (const [i, v] of (s.volumes ?? []).entries()) {
      if (v.source && (v.source.startsWith('.') || v.source.startsWith('/'))) {
        vols.push(`${rel(outputDir, join(topology.root, s.folder, v.source))}:${v.target}`);
      } else {
        const name = (v.source ?? `${s.name}-data${i ? `-${i}` : ''}`).replace(/[^a-zA-Z0-9_.-]/g, '-');
        volumes[name] = {};
        vols.push(`${name}:${v.target}`);
      }
    }
    if (!vols.length && kind && DB_DEFAULTS[kind] && (s.type === 'database' || s.type === 'cache')) {
      volumes[`${s.name}-data`] = {};
      vols.push(`${s.name}-data:${DB_DEFAULTS[kind].data}`);
    }
    if (vols.length) out.volumes = vols;

    out.networks = { default: { aliases: [s.name] } };
    out.labels = { [Label.service]: s.id, [Label.folder]: s.folder };
    out.restart = 'on-failure';
    out.security_opt = ['no-new-privileges:true'];
    out.deploy = {
      replicas: Math.max(1, s.replicas || 1),
      resources: {
        limits: {
          cpus: String(s.resources?.cpus ?? options.defaults?.cpus ?? 0.5),
          memory: `${s.resources?.memoryMb ?? options.defaults?.memoryMb ?? 512}M`,
        },
      },
    };
    services[s.name] = out;
  }

  const document: Record<string, unknown> = { services };
  if (Object.keys(volumes).length) document.volumes = volumes;
  const header = `# Generated by Kyozo from ${topology.root} (${runnable.length} services). Regenerate with: kyozo compose\n# Run it with: docker compose -p ${project} up -d\n`;
  return { document, yaml: header + stringify(document, { lineWidth: 0 }), dockerfiles };
}

/**
 * Writes an export to disk: the compose file, and its generated Dockerfiles relative to `outputDir` (the folder the
 * export was made for). Returns the Dockerfiles' absolute paths.
 */
export function writeComposeExport(
  out: ComposeExport,
  composeFile: string,
  outputDir = dirname(composeFile),
): string[] {
  mkdirSync(dirname(composeFile), { recursive: true });
  writeFileSync(composeFile, out.yaml);
  return Object.entries(out.dockerfiles).map(([file, text]) => {
    const path = join(outputDir, file);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, text);
    return path;
  });
}
