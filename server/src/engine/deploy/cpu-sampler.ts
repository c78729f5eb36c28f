// CPU of a service's replicas from the Docker stats API, as a percentage of each replica's CPU limit (what
// kyozo.yaml `scaling.target_cpu` means, like a Kubernetes HPA's utilisation of the request). Replicas are sampled
// concurrently, never one after another (a stats call takes about a second: the engine waits for a second reading),
// and each reading is cached briefly so the services sampled in the same second share it.
import type Docker from 'dockerode';

/** A container's CPU time and the host's, both in nanoseconds, at one reading of the stats API. */
export interface CpuCounters {
  total: number;
  system: number;
}

export function cpuCounters(s: Docker.ContainerStats): CpuCounters {
  return { total: s.cpu_stats.cpu_usage.total_usage, system: s.cpu_stats.system_cpu_usage ?? 0 };
}

/** Percent of one core used between two readings (`s` the later one, for the number of cores). */
export function cpuPercentBetween(before: CpuCounters, s: Docker.ContainerStats): number {
  const now = cpuCounters(s);
  const cpuDelta = now.total - before.total;
  const sysDelta = now.system - before.system;
  const cpus = s.cpu_stats.online_cpus ?? s.cpu_stats.cpu_usage.percpu_usage?.length ?? 1;
  return sysDelta > 0 && cpuDelta > 0 ? (cpuDelta / sysDelta) * cpus * 100 : 0;
}

/** Percent of one core used between the engine's two readings in one stats answer. */
export function cpuPercentOfStats(s: Docker.ContainerStats): number {
  return cpuPercentBetween(
    { total: s.precpu_stats?.cpu_usage?.total_usage ?? 0, system: s.precpu_stats?.system_cpu_usage ?? 0 },
    s,
  );
}

export class CpuSampler {
  private readonly cache = new Map<string, { at: number; value: Promise<number | undefined> }>();
  /** Each container's CPU limit in cores (it never changes for a container id). */
  private readonly limits = new Map<string, number>();

  constructor(
    private readonly docker: Docker,
    private readonly ttlMs = 1000,
  ) {}

  /** Percent of its CPU limit each container used (undefined for one the engine could not read). */
  sample(ids: string[]): Promise<(number | undefined)[]> {
    const now = Date.now();
    for (const [id, c] of this.cache) if (now - c.at > this.ttlMs) this.cache.delete(id);
    return Promise.all(
      ids.map((id) => {
        let entry = this.cache.get(id);
        if (!entry) {
          entry = { at: now, value: this.read(id) };
          this.cache.set(id, entry);
        }
        return entry.value;
      }),
    );
  }

  private async read(id: string): Promise<number | undefined> {
    try {
      const container = this.docker.getContainer(id);
      let limit = this.limits.get(id);
      if (limit === undefined) {
        const info = await container.inspect();
        const nano = info.HostConfig.NanoCpus ?? 0;
        limit = nano > 0 ? nano / 1e9 : 0;
        this.limits.set(id, limit);
      }
      const stats = (await container.stats({ stream: false })) as unknown as Docker.ContainerStats;
      const percentOfCore = cpuPercentOfStats(stats);
      // Without a limit the replica may use every core the engine has.
      const cores = limit || stats.cpu_stats.online_cpus || 1;
      return percentOfCore / cores;
    } catch {
      return undefined;
    }
  }
}
