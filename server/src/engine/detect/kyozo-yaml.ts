// kyozo.yaml: the user's word on a folder. Validated against the published schema (schemas/kyozo.schema.json);
// every key it sets wins over detection.
import type { default as AjvClass, ValidateFunction } from 'ajv';
import { LineCounter, parseDocument } from 'yaml';
import type { Evidence, PortSpec, ServiceType } from '../../protocol';
import schema from '../../../../schemas/kyozo.schema.json';
import { ev, findLine } from '../parse/evidence';
import { isSecretName } from '../parse/secret-names';
import { closest } from './service-names';
import type { Finding, FolderView } from './types';

export interface KyozoManifest {
  name?: string;
  type?: ServiceType;
  port?: number | number[];
  start?: string;
  image?: string;
  env?: Record<string, string | number | boolean>;
  depends_on?: string[];
  health?: string | { path?: string; command?: string | string[]; interval?: number };
  resources?: { memory?: string; cpus?: number };
  replicas?: number;
  scaling?: { min?: number; max: number; target_cpu?: number; cooldown?: number | string };
  base_image?: string;
  build?: string | { command?: string; dockerfile?: string };
  registry?: string;
  environments?: Record<string, unknown>;
}

/** Keys of the workspace root's kyozo.yaml that configure the workspace, not a service (see deploy/environments.ts). */
export const WORKSPACE_KEYS = ['registry', 'environments'] as const;

// Ajv compiles the schema once into a validator function; its error paths point at the offending key. Loading Ajv
// and compiling cost tens of milliseconds, so both wait for the first kyozo.yaml: most repositories have none.
let compiled: ValidateFunction<KyozoManifest> | undefined;
function validator(): ValidateFunction<KyozoManifest> {
  if (!compiled) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- deferred on purpose; esbuild still bundles it
    const Ajv = (require('ajv') as { default: typeof AjvClass }).default;
    compiled = new Ajv({ allErrors: true, strict: false }).compile<KyozoManifest>(schema);
  }
  return compiled;
}

function memoryMb(v: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)([kmg]?)/i.exec(v);
  if (!m) return undefined;
  const unit = m[2].toLowerCase();
  return Math.round(
    Number(m[1]) * (unit === 'g' ? 1024 : unit === 'k' ? 1 / 1024 : unit === 'm' ? 1 : 1 / (1024 * 1024)),
  );
}

/** `30`, `30s` or `5m` as seconds (the schema admits only these forms). */
function seconds(v: number | string): number {
  if (typeof v === 'number') return v;
  return Number.parseInt(v, 10) * (v.endsWith('m') ? 60 : 1);
}

function suggest(key: string | undefined): string {
  const near = key ? closest(key, Object.keys(schema.properties)) : undefined;
  return near ? ` (did you mean ${near}?)` : '';
}

export function detectKyozoYaml(folder: FolderView): Finding | undefined {
  const name = folder.has('kyozo.yaml') ? 'kyozo.yaml' : folder.has('kyozo.yml') ? 'kyozo.yml' : undefined;
  if (!name) return undefined;
  const file = folder.rel(name);
  const text = folder.read(name) ?? '';
  const base: Finding = {
    detector: 'kyozo.yaml',
    confidence: 1,
    evidence: [ev(file, 'kyozo.yaml overrides detection')],
    indicators: [file],
    problems: [],
    rank: 100,
  };
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc });
  if (doc.errors.length) {
    const line = lc.linePos(doc.errors[0].pos[0]).line;
    base.problems!.push({
      severity: 'error',
      code: 'yaml-parse',
      file,
      line,
      message: `${file}:${line}: ${doc.errors[0].message.split('\n')[0]}; kyozo.yaml is ignored until it parses.`,
    });
    return base;
  }
  const value = (doc.toJS() ?? {}) as unknown;
  const validate = validator();
  if (!validate(value)) {
    // One message per offending key; a oneOf failure lists the accepted forms instead of three raw errors.
    const byPath = new Map<string, NonNullable<typeof validate.errors>>();
    for (const err of validate.errors ?? []) {
      const key = err.instancePath || `/${(err.params as { additionalProperty?: string }).additionalProperty ?? ''}`;
      byPath.set(key, [...(byPath.get(key) ?? []), err]);
    }
    for (const [at, errs] of byPath) {
      const key = at.split('/')[1];
      const line = key ? findLine(text, new RegExp(`^${key}\\s*:`, 'm')) : undefined;
      const types = errs.filter((e) => e.keyword === 'type').map((e) => (e.params as { type: string }).type);
      const detail =
        errs.some((e) => e.keyword === 'oneOf') && types.length
          ? `must be ${types.join(' or ')}`
          : errs[0].keyword === 'additionalProperties'
            ? `is not a kyozo.yaml key${suggest(key)}`
            : (errs[0].message ?? 'is invalid');
      base.problems!.push({
        severity: 'error',
        code: 'kyozo-yaml-invalid',
        file,
        line,
        message: `${file}${line ? `:${line}` : ''}: ${key ?? 'manifest'} ${detail}; see schemas/kyozo.schema.json.`,
      });
    }
    return base;
  }
  const m = value;
  const workspaceKeys = WORKSPACE_KEYS.filter((k) => k in m);
  if (folder.dir !== '.' && workspaceKeys.length)
    base.problems!.push({
      severity: 'error',
      code: 'kyozo-yaml-invalid',
      file,
      line: findLine(text, new RegExp(`^${workspaceKeys[0]}\\s*:`, 'm')),
      message: `${file}: ${workspaceKeys.join(' and ')} configure the whole workspace and are read only from the kyozo.yaml at its root; move them there.`,
    });
  // A root kyozo.yaml holding only the workspace's registry and environments does not make the root a service.
  if (folder.dir === '.' && workspaceKeys.length && Object.keys(m).length === workspaceKeys.length) return undefined;
  const at = (key: string, reason: string): Evidence =>
    ev(file, reason, findLine(text, new RegExp(`^${key}\\s*:`, 'm')));
  const f = base;
  if (m.type) {
    f.type = m.type;
    f.evidence.push(at('type', `kyozo.yaml sets type ${m.type}`));
  }
  if (m.port !== undefined) {
    const ports = Array.isArray(m.port) ? m.port : [m.port];
    f.ports = ports.map<PortSpec>((p) => ({
      container: p,
      protocol: 'tcp',
      source: 'kyozo.yaml',
      evidence: at('port', `kyozo.yaml sets port ${p}`),
    }));
  }
  if (m.start)
    f.start = { command: m.start, source: 'kyozo.yaml', evidence: at('start', 'kyozo.yaml sets the start command') };
  if (m.image) f.image = m.image;
  if (m.env)
    f.env = Object.entries(m.env).map(([k, v]) => ({
      name: k,
      value: String(v),
      secret: isSecretName(k),
      evidence: ev(file, `kyozo.yaml env ${k}`, findLine(text, new RegExp(`^\\s+${k}\\s*:`, 'm'))),
    }));
  if (m.health) {
    const h = typeof m.health === 'string' ? { path: m.health } : m.health;
    f.healthCheck = h.command
      ? {
          kind: 'command',
          command: Array.isArray(h.command) ? h.command : ['CMD-SHELL', h.command],
          intervalSeconds: h.interval,
          evidence: at('health', 'kyozo.yaml health command'),
        }
      : {
          kind: 'http',
          path: h.path,
          intervalSeconds: h.interval,
          evidence: at('health', `kyozo.yaml health path ${h.path}`),
        };
  }
  if (m.base_image)
    f.build = { baseImage: m.base_image, evidence: at('base_image', `kyozo.yaml base image ${m.base_image}`) };
  if (m.build) {
    // A Dockerfile named here is built instead of a generated one; a command replaces the generated build step.
    const b = typeof m.build === 'string' ? { command: m.build } : m.build;
    const dockerfile = b.dockerfile ? folder.rel(b.dockerfile.replace(/^\.\//, '')) : undefined;
    const reason = dockerfile ? `kyozo.yaml builds ${dockerfile}` : `kyozo.yaml build command: ${b.command}`;
    f.build = { ...f.build, command: b.command, dockerfile, evidence: at('build', reason) };
  }
  if (m.scaling && (m.scaling.min ?? 1) > m.scaling.max)
    f.problems!.push({
      severity: 'warning',
      code: 'kyozo-yaml-invalid',
      file,
      line: findLine(text, /^scaling\s*:/m),
      message: `${file}: scaling min (${m.scaling.min}) is above max (${m.scaling.max}); max is taken as ${m.scaling.min}.`,
    });
  f.override = {
    name: m.name,
    replicas: m.replicas,
    resources: m.resources
      ? { memoryMb: m.resources.memory ? memoryMb(m.resources.memory) : undefined, cpus: m.resources.cpus }
      : undefined,
    scaling: m.scaling
      ? {
          min: m.scaling.min ?? 1,
          max: Math.max(m.scaling.max, m.scaling.min ?? 1),
          targetCpu: m.scaling.target_cpu ?? 70,
          ...(m.scaling.cooldown !== undefined ? { cooldownSeconds: seconds(m.scaling.cooldown) } : {}),
        }
      : undefined,
    dependsOn: m.depends_on?.map((d) => ({
      name: d,
      evidence: ev(file, `kyozo.yaml depends_on ${d}`, findLine(text, new RegExp(`^\\s*-\\s*${d}\\s*$`, 'm'))),
    })),
  };
  f.runnable = true;
  return f;
}
