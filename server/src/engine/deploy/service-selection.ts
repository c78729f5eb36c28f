// Which services a deployment covers: the deployable ones, by reference, with everything they depend on. Pure.
import type { Service, Topology } from '../../protocol';
import { runtimeOf } from './dockerfile-generator';
import { ServiceIndex } from './service-index';

/** Services Kyozo can run: something to build or an image; never terraform folders. */
export function deployable(service: Service): boolean {
  if (service.type === 'infrastructure' || service.type === 'compose_stack') return false;
  return Boolean(service.image || service.build || runtimeOf(service));
}

export function findService(topology: Topology, ref: string): Service {
  return ServiceIndex.of(topology).require(ref);
}

/**
 * The requested services plus everything they depend on (transitively), in topology order. A broker edge only says
 * that two services share a queue or topic: neither needs the other to run, so it pulls nothing in.
 */
export function selectServices(topology: Topology, refs?: string[]): Service[] {
  const all = topology.services.filter(deployable);
  if (!refs?.length) return all;
  const want = new Set<string>();
  const add = (id: string) => {
    if (want.has(id)) return;
    want.add(id);
    for (const e of topology.edges) if (e.from === id && e.kind !== 'broker') add(e.to);
  };
  for (const r of refs) add(findService(topology, r).id);
  return all.filter((s) => want.has(s.id));
}

/**
 * The services `serviceId` waits for (healthy) before it starts: those it depends on among the ones being deployed
 * with it, in an earlier wave of the topology's order (members of one cycle start together). A broker edge is no
 * reason to wait: a producer and its consumers each wait for the broker (redis, kafka) when that is a service, not
 * for each other; a service related to another only through a topic neither waits for it nor starts after it.
 */
export function awaitedDependencies(topology: Topology, serviceId: string, deploying: ReadonlySet<string>): string[] {
  // A service outside the order counts as the first wave; a dependency outside it, as before the first.
  const wave = (id: string) => topology.order.findIndex((w) => w.includes(id));
  const own = Math.max(0, wave(serviceId));
  const out = new Set<string>();
  for (const e of topology.edges) {
    if (e.from !== serviceId || e.to === serviceId || e.kind === 'broker' || !deploying.has(e.to)) continue;
    if (wave(e.to) < own) out.add(e.to);
  }
  return [...out];
}
