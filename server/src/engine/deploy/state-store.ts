// Per-workspace state kept outside the repository: generated credentials, host-port allocations,
// desired replica counts and the event log. Default `$XDG_STATE_HOME/kyozo/<workspace-hash>/`
// (`~/.local/state/kyozo/...`), overridable with the `stateDir` option or KYOZO_STATE_DIR.
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Runtime } from './orchestrator';

export function workspaceHash(root: string): string {
  return createHash('sha256').update(root).digest('hex').slice(0, 16);
}

/** The state folder of one workspace (created on first use, mode 0700 since it holds credentials). */
export function resolveStateDir(root: string, project: string, stateDir?: string): string {
  const base =
    stateDir ??
    process.env.KYOZO_STATE_DIR ??
    join(process.env.XDG_STATE_HOME || join(homedir(), '.local', 'state'), 'kyozo');
  const dir = join(base, `${project}-${workspaceHash(root)}`);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return dir;
}

export interface Credentials {
  user: string;
  password: string;
  database: string;
}

interface StateFile {
  credentials: Record<string, Credentials>;
  /** `<serviceId>/<replica>/<containerPort>/<protocol>` → host port. */
  ports: Record<string, number>;
  /** Desired replica counts set by `scale`. */
  replicas: Record<string, number>;
  /** Per service, the base images `up` built it with, so a later scale starts the same image whatever its flags. */
  baseImages: Record<string, Partial<Record<Runtime, string>>>;
  /** Per service, the image id `up` last started, for a scale that finds no replica to copy. */
  images: Record<string, string>;
  /**
   * Services Kyozo stopped and has not started since: a replica of one of them that exited on SIGKILL was stopped,
   * one of any other was killed from outside (`docker kill`, the OOM killer) and is shown as an error.
   */
  stopped: Record<string, true>;
}

/** A small JSON document rewritten atomically (temp file + fsync + rename) so a crash never truncates it. */
export class StateStore {
  private readonly file: string;

  constructor(readonly dir: string) {
    this.file = join(dir, 'state.json');
  }

  read(): StateFile {
    try {
      const parsed = JSON.parse(readFileSync(this.file, 'utf8')) as Partial<StateFile>;
      return {
        credentials: parsed.credentials ?? {},
        ports: parsed.ports ?? {},
        replicas: parsed.replicas ?? {},
        baseImages: parsed.baseImages ?? {},
        images: parsed.images ?? {},
        stopped: parsed.stopped ?? {},
      };
    } catch {
      return { credentials: {}, ports: {}, replicas: {}, baseImages: {}, images: {}, stopped: {} };
    }
  }

  update(change: (s: StateFile) => void): StateFile {
    const state = this.read();
    change(state);
    const tmp = `${this.file}.${process.pid}.tmp`;
    const fd = openSync(tmp, 'w', 0o600);
    try {
      writeSync(fd, JSON.stringify(state, null, 2));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.file);
    return state;
  }

  /** Credentials for a database service, generated once and reused so data volumes stay usable. */
  credentials(serviceId: string, serviceName: string): Credentials {
    const existing = this.read().credentials[serviceId];
    if (existing) return existing;
    const created: Credentials = {
      user: 'kyozo',
      password: randomBytes(18).toString('base64url'),
      database: serviceName.replace(/-/g, '_') || 'app',
    };
    this.update((s) => {
      s.credentials[serviceId] ??= created;
    });
    return this.read().credentials[serviceId] ?? created;
  }

  desiredReplicas(serviceId: string): number | undefined {
    return this.read().replicas[serviceId];
  }

  setDesiredReplicas(serviceId: string, n: number): void {
    this.update((s) => {
      s.replicas[serviceId] = n;
    });
  }

  /** The services Kyozo stopped and has not started since. */
  stoppedServices(): Set<string> {
    return new Set(Object.keys(this.read().stopped));
  }

  /** Records that Kyozo stops (true) or starts (false) these services; the file is written only on a change. */
  setStopped(serviceIds: string[], stopped: boolean): void {
    const current = this.read().stopped;
    if (serviceIds.every((id) => (current[id] === true) === stopped)) return;
    this.update((s) => {
      for (const id of serviceIds) {
        if (stopped) s.stopped[id] = true;
        else delete s.stopped[id];
      }
    });
  }

  /** What `up` deployed a service with: the image id it started and the base images it chose. */
  deployedImage(serviceId: string): { image?: string; baseImages: Partial<Record<Runtime, string>> } {
    const s = this.read();
    return { image: s.images[serviceId], baseImages: s.baseImages[serviceId] ?? {} };
  }

  rememberDeployedImage(serviceId: string, image: string, baseImages: Partial<Record<Runtime, string>>): void {
    this.update((s) => {
      s.images[serviceId] = image;
      s.baseImages[serviceId] = { ...baseImages };
    });
  }
}
