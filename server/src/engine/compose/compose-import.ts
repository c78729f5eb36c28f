// Compose import: reads compose.yaml / docker-compose.yml (with their override files, `${VAR:-default}`
// interpolation from the folder's .env, anchors and merge keys) into plain service records with evidence.
import * as path from 'node:path';
import { LineCounter, parseDocument, isScalar } from 'yaml';
import type { EnvVar, Evidence, HealthCheck, PortSpec, Problem, Resources, StartSpec } from '../../protocol';
import { ev } from '../parse/evidence';
import { interpolate } from '../parse/compose-syntax';
import { looksLikeSecretLiteral } from '../parse/secret-names';
import type { FolderView } from '../scan/folder-view';

// Part of compose import's own surface (with parseDotEnv), though detection reads Dockerfiles with it too.
export { interpolate };

export interface ComposeService {
  name: string;
  /** Root-relative compose file that declared the service first. */
  file: string;
  line: number;
  build?: { context: string; dockerfile?: string; target?: string; args?: Record<string, string>; evidence: Evidence };
  image?: string;
  ports: PortSpec[];
  env: EnvVar[];
  dependsOn: {
    name: string;
    condition?: 'service_started' | 'service_healthy' | 'service_completed_successfully';
    evidence: Evidence;
  }[];
  links: { name: string; evidence: Evidence }[];
  healthCheck?: HealthCheck;
  start?: StartSpec;
  replicas?: number;
  resources?: Resources;
  volumes: { target: string; source?: string; evidence: Evidence }[];
  aliases: string[];
}

export interface ComposeModel {
  dir: string;
  files: string[];
  services: ComposeService[];
  problems: Problem[];
}

const BASE_NAMES = ['compose.yaml', 'compose.yml', 'docker-compose.yaml', 'docker-compose.yml'];

/** Compose files of a folder in merge order: the base file, then its `.override` file. */
export function composeFilesIn(folder: FolderView): string[] {
  const base = BASE_NAMES.find((n) => folder.has(n));
  if (!base) return [];
  const override = base.replace(/\.ya?ml$/, (ext) => `.override${ext}`);
  return folder.has(override) ? [base, override] : [base];
}

export function parseDotEnv(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split(/\r?\n/)) {
    const m = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.]*)\s*=\s*(.*)?\s*$/.exec(raw);
    if (!m) continue;
    let v = (m[2] ?? '').trim();
    if (/^(['"]).*\1$/.test(v)) v = v.slice(1, -1);
    else v = v.replace(/\s+#.*$/, '');
    out[m[1]] = v;
  }
  return out;
}

function posix(p: string): string {
  return p.split(path.sep).join('/');
}

/** Root-relative folder for a path written relative to `dir`; undefined when it leaves the root. */
export function resolveRel(dir: string, p: string): string | undefined {
  const joined = path.posix.normalize(path.posix.join(dir === '.' ? '' : dir, p));
  if (joined.startsWith('..') || path.posix.isAbsolute(joined)) return undefined;
  const out = joined.replace(/\/$/, '');
  return out === '' || out === '.' ? '.' : posix(out);
}

function toStr(v: unknown): string | undefined {
  if (v === null || v === undefined) return undefined;
  return typeof v === 'string' ? v : String(v);
}

function parsePortEntry(entry: unknown): Omit<PortSpec, 'evidence' | 'source'> | undefined {
  if (typeof entry === 'number') return { container: entry, protocol: 'tcp' };
  if (typeof entry === 'string') {
    const [spec, proto] = entry.split('/');
    const parts = spec.split(':');
    const container = Number(parts.at(-1)!.split('-')[0]);
    const hostPart = parts.length >= 2 ? parts.at(-2)! : undefined;
    const host = hostPart ? Number(hostPart.split('-')[0]) : undefined;
    if (!Number.isInteger(container) || container <= 0 || container > 65535) return undefined;
    return {
      container,
      protocol: proto === 'udp' ? 'udp' : 'tcp',
      host: host && Number.isInteger(host) ? host : undefined,
    };
  }
  if (entry && typeof entry === 'object') {
    const o = entry as Record<string, unknown>;
    const container = Number(o.target);
    if (!Number.isInteger(container) || container <= 0) return undefined;
    const host = o.published !== undefined ? Number(String(o.published).split('-')[0]) : undefined;
    return {
      container,
      protocol: o.protocol === 'udp' ? 'udp' : 'tcp',
      host: host && Number.isInteger(host) ? host : undefined,
    };
  }
  return undefined;
}

function parseMemory(v: unknown): number | undefined {
  const s = toStr(v);
  if (!s) return undefined;
  const m = /^(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?$/i.exec(s.trim());
  if (!m) return undefined;
  const mult: Record<string, number> = { '': 1 / (1024 * 1024), k: 1 / 1024, m: 1, g: 1024, t: 1024 * 1024 };
  return Math.round(Number(m[1]) * mult[m[2].toLowerCase()]);
}

function healthFromTest(test: unknown, evidence: Evidence, extra: Record<string, unknown>): HealthCheck | undefined {
  let argv: string[] | undefined;
  if (typeof test === 'string') argv = ['CMD-SHELL', test];
  else if (Array.isArray(test)) argv = test.map(String);
  if (!argv || argv[0] === 'NONE') return undefined;
  const secs = (v: unknown) => {
    const m = /^(\d+)s$/.exec(String(v ?? ''));
    return m ? Number(m[1]) : undefined;
  };
  const url = /https?:\/\/[^\s/'"]+(\/[^\s'"]*)?/.exec(argv.join(' '));
  return {
    kind: 'command',
    command: argv,
    path: url?.[1],
    intervalSeconds: secs(extra.interval),
    timeoutSeconds: secs(extra.timeout),
    retries: typeof extra.retries === 'number' ? extra.retries : undefined,
    evidence,
  };
}

export function readCompose(folder: FolderView): ComposeModel | undefined {
  const files = composeFilesIn(folder);
  if (files.length === 0) return undefined;
  const model: ComposeModel = { dir: folder.dir, files: files.map((f) => folder.rel(f)), services: [], problems: [] };
  const dotenvText = folder.has('.env') ? folder.read('.env') : undefined;
  const vars: Record<string, string> = dotenvText ? parseDotEnv(dotenvText) : {};
  const byName = new Map<string, ComposeService>();

  for (const name of files) {
    const file = folder.rel(name);
    const text = folder.read(name);
    if (text === undefined) continue;
    const lc = new LineCounter();
    const doc = parseDocument(text, { merge: true, lineCounter: lc, uniqueKeys: false, prettyErrors: false });
    if (doc.errors.length) {
      const err = doc.errors[0];
      const line = lc.linePos(err.pos[0]).line;
      model.problems.push({
        severity: 'error',
        code: 'yaml-parse',
        file,
        line,
        column: lc.linePos(err.pos[0]).col,
        message: `${file}:${line}: ${err.message.split('\n')[0]}; the compose file was skipped until it parses.`,
      });
      continue;
    }
    let js: unknown;
    try {
      js = doc.toJS({ maxAliasCount: 1000 });
    } catch (e) {
      model.problems.push({ severity: 'error', code: 'yaml-parse', file, message: `${file}: ${(e as Error).message}` });
      continue;
    }
    const services = (js as { services?: unknown } | null)?.services;
    if (!services || typeof services !== 'object') continue;
    const lineOf = (p: (string | number)[]): number | undefined => {
      const node = doc.getIn(p, true) as { range?: [number, number, number] } | undefined;
      if (node && typeof node === 'object' && node.range) return lc.linePos(node.range[0]).line;
      return undefined;
    };
    const keyLine = (svc: string): number => {
      const map = doc.getIn(['services'], false) as { items?: { key: unknown }[] } | undefined;
      const pair = map?.items?.find((it) => isScalar(it.key) && it.key.value === svc);
      const range = (pair?.key as { range?: [number, number, number] } | undefined)?.range;
      return range ? lc.linePos(range[0]).line : 1;
    };
    for (const [svcName, ownDef] of Object.entries(services as Record<string, unknown>)) {
      const rawDef = resolveExtends(ownDef, services as Record<string, unknown>, folder, model, file, 0);
      const rawEnv = rawEnvironment((rawDef as Record<string, unknown> | null)?.environment);
      const def = interpolateDeep(rawDef ?? {}, vars, (missing, message) => {
        if (message !== undefined)
          model.problems.push({
            severity: 'warning',
            code: 'compose-variable',
            file,
            line: keyLine(svcName),
            message: `${file}: ${missing} is required by service ${svcName}: ${message || 'set it in .env'}`,
          });
      }) as Record<string, unknown>;
      const line = keyLine(svcName);
      const at = (sub: (string | number)[], reason: string): Evidence =>
        ev(file, reason, lineOf(['services', svcName, ...sub]) ?? line);
      let svc = byName.get(svcName);
      if (!svc) {
        svc = { name: svcName, file, line, ports: [], env: [], dependsOn: [], links: [], volumes: [], aliases: [] };
        byName.set(svcName, svc);
        model.services.push(svc);
      }
      applyService(svc, def, folder, model, at, file, rawEnv);
    }
  }
  return model;
}

/**
 * `extends: { file: common.yml, service: node-base }` (or `extends: base` in the same file): the base service's
 * settings under the service's own, as compose merges them — mappings key by key, environment by variable.
 */
function resolveExtends(
  def: unknown,
  sameFile: Record<string, unknown>,
  folder: FolderView,
  model: ComposeModel,
  file: string,
  depth: number,
): unknown {
  const d = def as Record<string, unknown> | null;
  const ext = d?.extends;
  if (!d || ext === undefined || depth > 5) return def;
  const spec = typeof ext === 'string' ? { service: ext } : (ext as { file?: string; service?: string });
  let pool = sameFile;
  if (spec.file) {
    const rel = resolveRel(folder.dir, spec.file);
    const text = rel ? folder.index.read(rel).text : undefined;
    let parsed: unknown;
    try {
      parsed = text === undefined ? undefined : parseDocument(text, { merge: true }).toJS();
    } catch {
      parsed = undefined;
    }
    const services = (parsed as { services?: Record<string, unknown> } | undefined)?.services;
    if (!services) {
      model.problems.push({
        severity: 'warning',
        code: 'compose-extends',
        file,
        message: `${file}: extends names ${spec.file}, which cannot be read as a compose file; its settings were not applied.`,
      });
      return def;
    }
    pool = services;
  }
  const base = spec.service ? pool[spec.service] : undefined;
  if (base === undefined) {
    model.problems.push({
      severity: 'warning',
      code: 'compose-extends',
      file,
      message: `${file}: extends names service ${spec.service ?? '(none)'}${spec.file ? ` in ${spec.file}` : ''}, which does not exist.`,
    });
    return def;
  }
  const resolvedBase = resolveExtends(base, pool, folder, model, file, depth + 1) as Record<string, unknown>;
  const { extends: _ignored, ...own } = d;
  const merged: Record<string, unknown> = { ...resolvedBase, ...own };
  if (resolvedBase.environment !== undefined || own.environment !== undefined) {
    merged.environment = { ...rawEnvironment(resolvedBase.environment), ...rawEnvironment(own.environment) };
  }
  for (const key of ['ports', 'expose', 'volumes', 'depends_on', 'links']) {
    if (Array.isArray(resolvedBase[key]) && Array.isArray(own[key]))
      merged[key] = [...new Set([...(resolvedBase[key] as unknown[]), ...(own[key] as unknown[])])];
  }
  return merged;
}

/** The environment as written, before interpolation, to tell typed-in values from `${VAR}` ones. */
function rawEnvironment(env: unknown): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  if (Array.isArray(env)) {
    for (const entry of env) {
      const s = String(entry);
      const eq = s.indexOf('=');
      out[eq < 0 ? s : s.slice(0, eq)] = eq < 0 ? undefined : s.slice(eq + 1);
    }
  } else if (env && typeof env === 'object') {
    for (const [k, v] of Object.entries(env)) out[k] = toStr(v);
  }
  return out;
}

function interpolateDeep(
  v: unknown,
  vars: Record<string, string>,
  onMissing: (n: string, m?: string) => void,
): unknown {
  if (typeof v === 'string') return interpolate(v, vars, onMissing);
  if (Array.isArray(v)) return v.map((x) => interpolateDeep(x, vars, onMissing));
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = interpolateDeep(x, vars, onMissing);
    return out;
  }
  return v;
}

function applyService(
  svc: ComposeService,
  def: Record<string, unknown>,
  folder: FolderView,
  model: ComposeModel,
  at: (sub: (string | number)[], reason: string) => Evidence,
  file: string,
  rawEnv: Record<string, string | undefined> = {},
): void {
  const name = svc.name;
  if (def.build !== undefined) {
    const b = typeof def.build === 'string' ? { context: def.build } : (def.build as Record<string, unknown>);
    const ctxRaw = toStr(b.context) ?? '.';
    if (/^(https?:|git@|github\.com)/.test(ctxRaw)) {
      svc.build = undefined;
    } else {
      const context = resolveRel(folder.dir, ctxRaw);
      // A context linked out of the workspace would copy that host folder into the image.
      const escape =
        context === undefined ? undefined : folder.index.escapes(context, `build context ${ctxRaw} of service ${name}`);
      if (context === undefined) {
        model.problems.push({
          severity: 'warning',
          code: 'compose-build-outside',
          file,
          line: at(['build'], '').line,
          message: `${file}: service ${name} builds from ${ctxRaw}, outside the analysed folder; it is shown as an image service.`,
        });
      } else if (escape) {
        // serviceId as assemble names a compose service that builds nothing, so a deploy can say why it is not built.
        model.problems.push({
          severity: 'warning',
          code: 'compose-build-outside',
          file,
          line: at(['build'], '').line,
          message: `${file}: ${escape.message} Service ${name} is shown as an image service.`,
          serviceId: `${model.files[0]}#${name}`,
        });
      } else {
        const dockerfile = toStr(b.dockerfile);
        svc.build = {
          context,
          dockerfile: dockerfile ? resolveRel(context, dockerfile) : undefined,
          target: toStr(b.target),
          args:
            b.args && typeof b.args === 'object' && !Array.isArray(b.args)
              ? Object.fromEntries(Object.entries(b.args).map(([k, v]) => [k, String(v)]))
              : undefined,
          evidence: at(['build'], `compose service ${name} builds ${ctxRaw}`),
        };
      }
    }
  }
  if (def.image !== undefined) svc.image = toStr(def.image);
  const ports = Array.isArray(def.ports) ? def.ports : [];
  ports.forEach((p, i) => {
    const spec = parsePortEntry(p);
    if (!spec) return;
    svc.ports = svc.ports.filter((x) => x.container !== spec.container || x.host !== spec.host);
    svc.ports.push({
      ...spec,
      source: 'compose',
      evidence: at(['ports', i], `compose ports: ${typeof p === 'object' ? JSON.stringify(p) : p}`),
    });
  });
  const expose = Array.isArray(def.expose) ? def.expose : [];
  expose.forEach((p, i) => {
    const spec = parsePortEntry(typeof p === 'number' ? p : String(p).split(':').at(-1));
    if (spec && !svc.ports.some((x) => x.container === spec.container))
      svc.ports.push({
        ...spec,
        host: undefined,
        source: 'compose',
        evidence: at(['expose', i], `compose expose: ${p}`),
      });
  });
  const setEnv = (key: string, value: string | undefined, evidence: Evidence) => {
    svc.env = svc.env.filter((e) => e.name !== key);
    const interpolated = /\$\{?[A-Za-z_]/.test(rawEnv[key] ?? '');
    svc.env.push({
      name: key,
      value,
      secret: looksLikeSecretLiteral(key, value) || /PASSWORD|SECRET|TOKEN|KEY$/i.test(key),
      ...(interpolated ? { interpolated } : {}),
      evidence,
    });
  };
  if (Array.isArray(def.environment)) {
    def.environment.forEach((entry, i) => {
      const s = String(entry);
      const eq = s.indexOf('=');
      setEnv(
        eq < 0 ? s : s.slice(0, eq),
        eq < 0 ? undefined : s.slice(eq + 1),
        at(['environment', i], `compose environment of ${name}`),
      );
    });
  } else if (def.environment && typeof def.environment === 'object') {
    for (const [k, v] of Object.entries(def.environment))
      setEnv(k, toStr(v), at(['environment', k], `compose environment of ${name}`));
  }
  const envFiles = def.env_file === undefined ? [] : Array.isArray(def.env_file) ? def.env_file : [def.env_file];
  for (const ef of envFiles) {
    const p = typeof ef === 'object' && ef ? toStr((ef as Record<string, unknown>).path) : toStr(ef);
    const rel = p ? resolveRel(folder.dir, p) : undefined;
    if (!rel) {
      if (p) {
        model.problems.push({
          severity: 'warning',
          code: 'compose-env-file',
          file,
          line: at(['env_file'], '').line,
          message:
            `${file}: env_file ${p} of service ${name} is outside the workspace; Kyozo reads only files ` +
            'inside the workspace, so its variables were not loaded. Copy the file into the workspace.',
        });
      }
      continue;
    }
    const text = folder.index.read(rel, `env_file ${p} of service ${name}`).text;
    if (text === undefined) continue;
    const values = parseDotEnv(text);
    for (const [k, v] of Object.entries(values)) {
      if (!svc.env.some((e) => e.name === k))
        setEnv(
          k,
          v,
          ev(
            rel,
            `env_file of ${name}`,
            text.split(/\r?\n/).findIndex((l) => l.trimStart().startsWith(`${k}=`) || l.includes(` ${k}=`)) + 1 ||
              undefined,
          ),
        );
    }
  }
  const dep = def.depends_on;
  if (Array.isArray(dep)) {
    dep.forEach((d, i) => {
      const n = String(d);
      if (!svc.dependsOn.some((x) => x.name === n))
        svc.dependsOn.push({ name: n, evidence: at(['depends_on', i], `${name} depends_on ${n}`) });
    });
  } else if (dep && typeof dep === 'object') {
    for (const [n, cond] of Object.entries(dep)) {
      const c = toStr(
        (cond as Record<string, unknown> | null)?.condition,
      ) as ComposeService['dependsOn'][number]['condition'];
      svc.dependsOn = svc.dependsOn.filter((x) => x.name !== n);
      svc.dependsOn.push({
        name: n,
        condition: c,
        evidence: at(['depends_on', n], `${name} depends_on ${n}${c ? ` (${c})` : ''}`),
      });
    }
  }
  if (Array.isArray(def.links)) {
    def.links.forEach((l, i) => {
      const n = String(l).split(':')[0];
      svc.links.push({ name: n, evidence: at(['links', i], `${name} links ${l}`) });
    });
  }
  if (def.healthcheck && typeof def.healthcheck === 'object') {
    const hc = def.healthcheck as Record<string, unknown>;
    svc.healthCheck =
      hc.disable === true
        ? undefined
        : (healthFromTest(hc.test, at(['healthcheck'], `compose healthcheck of ${name}`), hc) ?? svc.healthCheck);
  }
  if (def.command !== undefined) {
    const argv = Array.isArray(def.command) ? def.command.map(String) : undefined;
    svc.start = {
      command: argv ? argv.join(' ') : String(def.command),
      argv,
      source: 'compose',
      evidence: at(['command'], `compose command of ${name}`),
    };
  }
  const deploy = (def.deploy ?? {}) as Record<string, unknown>;
  const replicas = deploy.replicas ?? def.scale;
  if (replicas !== undefined && Number.isInteger(Number(replicas))) svc.replicas = Number(replicas);
  const limits = ((deploy.resources as Record<string, unknown> | undefined)?.limits ?? {}) as Record<string, unknown>;
  const memoryMb = parseMemory(limits.memory ?? def.mem_limit);
  const cpus = limits.cpus ?? def.cpus;
  if (memoryMb !== undefined || cpus !== undefined)
    svc.resources = { memoryMb, cpus: cpus !== undefined ? Number(cpus) : undefined };
  if (Array.isArray(def.volumes)) {
    def.volumes.forEach((v, i) => {
      if (typeof v === 'string') {
        const parts = v.split(':');
        svc.volumes.push({
          target: parts.length > 1 ? parts[1] : parts[0],
          source: parts.length > 1 ? parts[0] : undefined,
          evidence: at(['volumes', i], `volume ${v}`),
        });
      } else if (v && typeof v === 'object') {
        const o = v as Record<string, unknown>;
        if (o.target)
          svc.volumes.push({
            target: String(o.target),
            source: toStr(o.source),
            evidence: at(['volumes', i], `volume ${o.source ?? ''}:${o.target}`),
          });
      }
    });
  }
  const nets = def.networks;
  if (nets && typeof nets === 'object' && !Array.isArray(nets)) {
    for (const n of Object.values(nets)) {
      const aliases = (n as Record<string, unknown> | null)?.aliases;
      if (Array.isArray(aliases)) svc.aliases.push(...aliases.map(String));
    }
  }
}
