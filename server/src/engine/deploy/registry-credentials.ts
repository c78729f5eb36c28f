// Registry credentials as Docker keeps them: `$DOCKER_CONFIG/config.json` (default ~/.docker), its `credHelpers`
// per registry, its `credsStore`, or its base64 `auths` entries (what `docker login` wrote). Read when a push or pull
// needs them, handed to the engine in its X-Registry-Auth header, never stored, logged or shown.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export interface RegistryAuth {
  serveraddress: string;
  username?: string;
  password?: string;
  identitytoken?: string;
}

interface DockerConfig {
  auths?: Record<string, { auth?: string; username?: string; password?: string; identitytoken?: string }>;
  credsStore?: string;
  credHelpers?: Record<string, string>;
}

/** The registry host (and port) of a registry or image reference: `127.0.0.1:5000/team/api:1` → `127.0.0.1:5000`. */
export function registryHost(reference: string): string {
  return reference.replace(/^https?:\/\//, '').split('/')[0]!;
}

export function dockerConfigFile(): string {
  return join(process.env.DOCKER_CONFIG || join(homedir(), '.docker'), 'config.json');
}

/** $DOCKER_CONFIG/config.json as Docker reads it; empty when there is none (or it is not JSON). */
export function readDockerConfig(): DockerConfig {
  try {
    return JSON.parse(readFileSync(dockerConfigFile(), 'utf8')) as DockerConfig;
  } catch {
    return {}; // no file (or not JSON): anonymous access, as docker itself would do
  }
}

/** `auths` keys are written as `host`, `https://host` or `https://host/v1/`; all name the same registry. */
function sameHost(key: string, host: string): boolean {
  return registryHost(key) === host;
}

function fromHelper(helper: string, host: string): RegistryAuth | undefined {
  let out: string;
  try {
    // The credential helper protocol (docker-credential-helpers): the server URL on stdin, JSON on stdout.
    out = execFileSync(`docker-credential-${helper}`, ['get'], {
      input: host,
      encoding: 'utf8',
      stdio: ['pipe', 'pipe', 'ignore'],
      timeout: 15_000,
    });
  } catch {
    return undefined; // no entry for this registry (the helper exits non-zero), or no such helper
  }
  try {
    const c = JSON.parse(out) as { Username?: string; Secret?: string };
    if (!c.Secret) return undefined;
    // A helper returns `<token>` as the user name when the secret is an identity token.
    return c.Username === '<token>'
      ? { serveraddress: host, identitytoken: c.Secret }
      : { serveraddress: host, username: c.Username, password: c.Secret };
  } catch {
    return undefined;
  }
}

/** Credentials for a registry, or undefined for anonymous access. */
export function dockerCredentials(registry: string): RegistryAuth | undefined {
  const host = registryHost(registry);
  const config = readDockerConfig();
  const helper = Object.entries(config.credHelpers ?? {}).find(([k]) => sameHost(k, host))?.[1];
  if (helper) return fromHelper(helper, host);
  const entry = Object.entries(config.auths ?? {}).find(([k]) => sameHost(k, host))?.[1];
  if (config.credsStore) {
    const stored = fromHelper(config.credsStore, host);
    if (stored) return stored;
  }
  if (!entry) return undefined;
  if (entry.identitytoken) return { serveraddress: host, identitytoken: entry.identitytoken };
  if (entry.auth) {
    const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
    const at = decoded.indexOf(':');
    if (at > 0) return { serveraddress: host, username: decoded.slice(0, at), password: decoded.slice(at + 1) };
  }
  if (entry.username && entry.password)
    return { serveraddress: host, username: entry.username, password: entry.password };
  return undefined;
}
