// Helpers for tests and benchmarks that need a real Docker engine.
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import Docker from 'dockerode';
import { createDockerClient, engineAddress } from '../../server/src/engine/deploy/docker-client';

export function testDocker(): Docker {
  return createDockerClient();
}

/** True when an engine answers; false (after one clear line) outside CI; throws in CI, where the engine is required. */
export async function engineAvailable(): Promise<boolean> {
  try {
    await Promise.race([
      testDocker().ping(),
      new Promise((_, r) => setTimeout(() => r(new Error('no answer within 10 s')), 10_000)),
    ]);
    return true;
  } catch (e) {
    const line = `no Docker engine answers at ${engineAddress()} (${(e as Error).message}); start one with \`bash .ci/start-dockerd.sh\``;
    if (process.env.CI === 'true') throw new Error(`${line} (required when CI=true)`, { cause: e });
    console.log(`# skipped: ${line}`);
    return false;
  }
}

/** `describe`-free guard: registers a single skipped test when the engine is missing (outside CI). */
export async function requireEngineOrSkip(name: string): Promise<boolean> {
  const ok = await engineAvailable();
  if (!ok) test(name, { skip: 'no Docker engine' }, () => undefined);
  return ok;
}

/** Removes every container, network and volume of a compose project / Kyozo workspace, and its images. */
export async function cleanupWorkspace(project: string, options: { images?: boolean } = {}): Promise<void> {
  const docker = testDocker();
  for (const label of [`dev.kyozo.workspace=${project}`, `com.docker.compose.project=${project}`]) {
    for (const c of await docker.listContainers({ all: true, filters: { label: [label] } })) {
      await docker
        .getContainer(c.Id)
        .remove({ force: true })
        .catch(() => undefined);
    }
    for (const n of await docker.listNetworks({ filters: { label: [label] } }))
      await docker
        .getNetwork(n.Id)
        .remove()
        .catch(() => undefined);
    const { Volumes } = await docker.listVolumes({ filters: { label: [label] } });
    for (const v of Volumes ?? [])
      await docker
        .getVolume(v.Name)
        .remove()
        .catch(() => undefined);
  }
  if (options.images) {
    for (const img of await docker.listImages({ filters: { reference: [`kyozo-${project}/*`] } })) {
      await docker
        .getImage(img.Id)
        .remove({ force: true })
        .catch(() => undefined);
    }
  }
}

export function dockerCli(args: string[]): string {
  return execFileSync('docker', args, { encoding: 'utf8' });
}
