// The workspace root's kyozo.yaml as workspace settings: the registry images go to, and the deployment environments
// (development, staging, production, ...). An environment is the same topology with its overrides applied and its own
// project name, so each one has its own network, containers, state folder and events. Pure: no Docker client, so the
// compose and Kubernetes exports use it too.
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join, relative, resolve } from 'node:path';
import type { default as AjvClass, ValidateFunction } from 'ajv';
import { LineCounter, parseDocument } from 'yaml';
import type { EnvVar, Service, Topology } from '../../protocol';
import schema from '../../../../schemas/kyozo.schema.json';
import { closest } from '../detect/service-names';
import { isSecretName, looksLikeSecretLiteral } from '../parse/secret-names';
import { readStoredSecret, SecretStoreError } from './secret-store';

export class EnvironmentError extends Error {}

export interface SecretRef {
  from_env?: string;
  file?: string;
  /** An entry of the user's secret store for this workspace and environment (secret-store.ts). */
  from_store?: string;
}

type EnvValues = Record<string, string | number | boolean>;

export interface ServiceOverride {
  env?: EnvValues;
  env_file?: string | string[];
  secrets?: Record<string, SecretRef>;
  replicas?: number;
  resources?: { memory?: string; cpus?: number };
  scaling?: { min?: number; max: number; target_cpu?: number; cooldown?: number | string };
  port?: number | number[];
  host_port?: number;
  base_image?: string;
}

export interface EnvironmentSpec {
  env?: EnvValues;
  env_file?: string | string[];
  secrets?: Record<string, SecretRef>;
  confirm?: boolean;
  services?: Record<string, ServiceOverride>;
}

export interface WorkspaceConfig {
  /** Root-relative name of the file read (kyozo.yaml or kyozo.yml), when there is one. */
  file?: string;
  registry?: string;
  environments: Record<string, EnvironmentSpec>;
}

/** The environment of a topology that `applyEnvironment` produced, with what the orchestrator needs of it. */
export type EnvironmentTopology = Topology & { environment: NonNullable<Topology['environment']> };

const ENV_NAME = /^[a-z][a-z0-9-]{0,30}$/;

// Compiled once on first use, as in detect/kyozo-yaml.ts (Ajv: the schema's own error paths name the offending key).
let compiled: ValidateFunction | undefined;
function validator(): ValidateFunction {
  if (!compiled) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- deferred on purpose; esbuild still bundles it
    const Ajv = (require('ajv') as { default: typeof AjvClass }).default;
    compiled = new Ajv({ allErrors: true, strict: false }).compile(schema);
  }
  return compiled;
}

/** Reads the root kyozo.yaml's `registry:` and `environments:`; no file means no settings. Invalid files throw. */
/** The root's kyozo.yaml (or kyozo.yml) by its name, when there is one. */
export function workspaceConfigName(root: string): string | undefined {
  return ['kyozo.yaml', 'kyozo.yml'].find((n) => existsSync(join(root, n)));
}

export function readWorkspaceConfig(root: string): WorkspaceConfig {
  const name = workspaceConfigName(root);
  if (!name) return { environments: {} };
  const text = readFileSync(join(root, name), 'utf8');
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc });
  if (doc.errors.length) {
    const line = lc.linePos(doc.errors[0]!.pos[0]).line;
    throw new EnvironmentError(`${name}:${line}: ${doc.errors[0]!.message.split('\n')[0]}; fix the YAML`);
  }
  const value = (doc.toJS() ?? {}) as Record<string, unknown>;
  const validate = validator();
  const problems: string[] = [];
  if (!validate(value)) {
    for (const e of validate.errors ?? []) {
      if (!e.instancePath.startsWith('/environments') && !e.instancePath.startsWith('/registry')) continue;
      const at = e.instancePath.slice(1).replace(/\//g, '.');
      const extra = (e.params as { additionalProperty?: string }).additionalProperty;
      problems.push(extra ? `${at}.${extra} is not an environment setting` : `${at} ${e.message ?? 'is invalid'}`);
    }
  }
  if (problems.length)
    throw new EnvironmentError(`${name}: ${[...new Set(problems)].join('; ')}; see schemas/kyozo.schema.json`);
  const environments: Record<string, EnvironmentSpec> = {};
  for (const [env, spec] of Object.entries((value.environments ?? {}) as Record<string, EnvironmentSpec | null>)) {
    if (!ENV_NAME.test(env))
      throw new EnvironmentError(`${name}: environment name '${env}' must be lowercase letters, digits and dashes`);
    environments[env] = spec ?? {};
    secretLiterals(name, `environments.${env}`, spec?.env);
    for (const [svc, o] of Object.entries(spec?.services ?? {}))
      secretLiterals(name, `environments.${env}.services.${svc}`, o.env);
  }
  return { file: name, registry: value.registry as string | undefined, environments };
}

/** A secret's value written into the repository is refused, with where to put it instead. */
function secretLiterals(file: string, at: string, env: EnvValues | undefined): void {
  for (const [k, v] of Object.entries(env ?? {})) {
    if (isSecretName(k) && looksLikeSecretLiteral(k, String(v)))
      throw new EnvironmentError(
        `${file}: ${at}.env.${k} looks like a secret written into the repository; put it in an env_file outside the ` +
          `repository (env_file: ~/.config/kyozo/<project>/<environment>.env) or reference it (secrets: { ${k}: { from_env: ${k} } })`,
      );
  }
}

/** The project an environment deploys as: the workspace's own name, then the environment's. */
export function environmentProject(baseName: string, environment: string | undefined): string {
  return environment ? `${baseName}-${environment}` : baseName;
}

/** A path of an env or secret file: `~` is the home folder, relative paths are from the workspace root. */
function secretPath(root: string, path: string, what: string): string {
  const abs = path === '~' || path.startsWith('~/') ? join(homedir(), path.slice(1)) : resolve(root, path);
  const real = (p: string) => {
    try {
      return realpathSync(p);
    } catch {
      return p;
    }
  };
  const rel = relative(real(root), real(abs));
  if (!rel.startsWith('..') && !isAbsolute(rel))
    throw new EnvironmentError(
      `${what} ${path} is inside the workspace; secrets are kept outside the repository (e.g. ~/.config/kyozo/...)`,
    );
  if (!existsSync(abs)) throw new EnvironmentError(`${what} ${abs} does not exist; create it or fix the path`);
  return abs;
}

/** KEY=VALUE lines (`export ` and quotes allowed, # comments); dotenv's grammar without its interpolation. */
export function parseEnvFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_.]*)\s*=\s*(.*)$/.exec(line);
    if (!m) continue;
    let v = m[2]!;
    if (/^(['"]).*\1$/.test(v)) v = v.slice(1, -1);
    else v = v.replace(/\s+#.*$/, '');
    out[m[1]!] = v;
  }
  return out;
}

function files(v: string | string[] | undefined): string[] {
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}

/** Secret variables of an environment (or one service of it): names and values, read now, never stored. */
function secretValues(
  root: string,
  environment: string,
  at: string,
  source: { env_file?: string | string[]; secrets?: Record<string, SecretRef> },
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of files(source.env_file))
    Object.assign(out, parseEnvFile(readFileSync(secretPath(root, f, `${at}.env_file`), 'utf8')));
  for (const [name, ref] of Object.entries(source.secrets ?? {})) {
    if (ref.from_env) {
      const v = process.env[ref.from_env];
      if (v === undefined)
        throw new EnvironmentError(
          `${at}.secrets.${name} reads ${ref.from_env} from Kyozo's environment, which does not set it; export it first`,
        );
      out[name] = v;
    } else if (ref.file) {
      out[name] = readFileSync(secretPath(root, ref.file, `${at}.secrets.${name}`), 'utf8').replace(/\r?\n$/, '');
    } else if (ref.from_store) {
      let v: string | undefined;
      try {
        v = readStoredSecret(root, environment, ref.from_store);
      } catch (e) {
        if (!(e instanceof SecretStoreError)) throw e;
        throw new EnvironmentError(`${at}.secrets.${name} reads ${ref.from_store} from the secret store: ${e.message}`);
      }
      if (v === undefined)
        throw new EnvironmentError(
          `${at}.secrets.${name} reads ${ref.from_store} from the secret store, which has none for this workspace's ` +
            `${environment}; set it: kyozo secret set ${environment} ${ref.from_store} ` +
            '(in VS Code: Kyozo: Set Environment Secret)',
        );
      out[name] = v;
    }
  }
  return out;
}

function memoryMb(v: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)([kmg]?)/i.exec(v);
  if (!m) return undefined;
  const unit = m[2]!.toLowerCase();
  return Math.round(Number(m[1]) * (unit === 'g' ? 1024 : unit === 'k' ? 1 / 1024 : unit === 'm' ? 1 : 1 / 1048576));
}

function setEnv(service: Service, name: string, value: string, secret: boolean, file: string, reason: string): void {
  const entry: EnvVar = { name, value, secret, evidence: { file, reason } };
  const i = service.env.findIndex((e) => e.name === name);
  if (i >= 0) service.env[i] = entry;
  else service.env.push(entry);
}

/** The secret-store entries (`from_store`) each environment names, with the variables that take them. */
export function storeReferences(config: WorkspaceConfig): { environment: string; name: string; variables: string[] }[] {
  const out = new Map<string, { environment: string; name: string; variables: string[] }>();
  for (const [environment, spec] of Object.entries(config.environments)) {
    const sources = [spec, ...Object.values(spec.services ?? {})];
    for (const source of sources)
      for (const [variable, ref] of Object.entries(source.secrets ?? {})) {
        if (!ref.from_store) continue;
        const key = `${environment}/${ref.from_store}`;
        const entry = out.get(key) ?? { environment, name: ref.from_store, variables: [] };
        if (!entry.variables.includes(variable)) entry.variables.push(variable);
        out.set(key, entry);
      }
  }
  return [...out.values()];
}

/** The names of the environments, for messages and pickers. */
export function environmentNames(config: WorkspaceConfig): string[] {
  return Object.keys(config.environments);
}

export function unknownEnvironment(config: WorkspaceConfig, name: string): EnvironmentError {
  const known = environmentNames(config);
  if (!known.length)
    return new EnvironmentError(
      `unknown environment '${name}': the workspace's kyozo.yaml defines no environments; add environments: { ${name}: {} } to the kyozo.yaml at the workspace root`,
    );
  // `prod` for production: a prefix is as likely a meaning as a typo.
  const near = known.find((k) => k.startsWith(name)) ?? closest(name, known);
  return new EnvironmentError(
    `unknown environment '${name}'${near ? ` (did you mean ${near}?)` : ''}; ${config.file} defines ${known.join(', ')}`,
  );
}

/** Whether deploying to an environment asks first: `confirm:` when given, else production does. */
export function needsConfirmation(config: WorkspaceConfig, name: string): boolean {
  return config.environments[name]?.confirm ?? name === 'production';
}

/**
 * The topology of one environment: env values, replicas, resources, scaling, ports and base images overridden, and
 * secrets read from their references (marked secret, so exports reference them and never write their values).
 */
export function applyEnvironment(
  topology: Topology,
  config: WorkspaceConfig,
  name: string,
  options: EnvironmentOptions = {},
): EnvironmentTopology {
  const spec = config.environments[name];
  if (!spec) throw unknownEnvironment(config, name);
  const file = config.file ?? 'kyozo.yaml';
  const out = structuredClone(topology) as EnvironmentTopology;
  out.environment = { name, baseName: topology.name, confirm: needsConfirmation(config, name) };
  const byName = new Map(out.services.map((s) => [s.name, s]));
  const overrides = new Map<Service, ServiceOverride>();
  for (const [ref, o] of Object.entries(spec.services ?? {})) {
    const service = byName.get(ref) ?? out.services.find((s) => s.id === ref);
    if (!service) {
      const near = closest(ref, [...byName.keys()]);
      throw new EnvironmentError(
        `${file}: environments.${name}.services.${ref} overrides a service this workspace does not have` +
          `${near ? ` (did you mean ${near}?)` : ''}; its services are ${[...byName.keys()].join(', ') || 'none'}`,
      );
    }
    overrides.set(service, o);
  }
  const readSecrets = options.secrets !== false;
  const shared = readSecrets ? secretValues(topology.root, name, `environments.${name}`, spec) : {};
  for (const service of out.services) {
    if (service.composeOnly) continue;
    const o = overrides.get(service) ?? {};
    const reason = `environment ${name}`;
    for (const [k, v] of Object.entries({ ...spec.env, ...o.env })) setEnv(service, k, String(v), false, file, reason);
    const own = readSecrets
      ? secretValues(topology.root, name, `environments.${name}.services.${service.name}`, o)
      : {};
    for (const [k, v] of Object.entries({ ...shared, ...own })) setEnv(service, k, v, true, file, `${reason} secret`);
    if (o.replicas !== undefined) service.replicas = o.replicas;
    if (o.resources)
      service.resources = {
        ...service.resources,
        ...(o.resources.memory ? { memoryMb: memoryMb(o.resources.memory) } : {}),
        ...(o.resources.cpus !== undefined ? { cpus: o.resources.cpus } : {}),
      };
    if (o.scaling)
      service.scaling = {
        min: o.scaling.min ?? 1,
        max: Math.max(o.scaling.max, o.scaling.min ?? 1),
        targetCpu: o.scaling.target_cpu ?? 70,
        ...(o.scaling.cooldown !== undefined
          ? {
              cooldownSeconds:
                typeof o.scaling.cooldown === 'number'
                  ? o.scaling.cooldown
                  : Number.parseInt(o.scaling.cooldown, 10) * (o.scaling.cooldown.endsWith('m') ? 60 : 1),
            }
          : {}),
      };
    if (o.port !== undefined) {
      const ports = Array.isArray(o.port) ? o.port : [o.port];
      service.ports = ports.map((p) => ({
        container: p,
        protocol: 'tcp',
        source: 'kyozo.yaml',
        envVar: service.ports[0]?.envVar,
        evidence: { file, reason: `${reason} port ${p}` },
      }));
    }
    if (o.host_port !== undefined && service.ports[0]) service.ports[0] = { ...service.ports[0], host: o.host_port };
    if (o.base_image && service.build)
      service.build = {
        ...service.build,
        baseImage: o.base_image,
        evidence: { file, reason: `${reason} base image ${o.base_image}` },
      };
  }
  return out;
}

export interface EnvironmentOptions {
  /**
   * false: leave the environment's secrets out, reading none of their references (no env file, variable, file or
   * secret store). For what only finds, stops or reads the environment's containers (down, ps, stop, logs, events):
   * those work even when a secret cannot be read, e.g. with the keyring locked or a CI variable unset.
   */
  secrets?: boolean;
}

/** The topology to deploy: the environment's when one is named, else the workspace's as it is. */
export function topologyFor(
  topology: Topology,
  environment: string | undefined,
  options: EnvironmentOptions = {},
): Topology {
  if (!environment) return topology;
  return applyEnvironment(topology, readWorkspaceConfig(topology.root), environment, options);
}
