// Deployment order: waves of services that can start in parallel (Kahn's algorithm by levels); strongly
// connected components (Tarjan) name every cycle, whose members start together after everything else.
import type { Edge, Problem, Service } from '../../protocol';
import { stronglyConnected } from './strongly-connected';

export function deploymentOrder(services: Service[], edges: Edge[]): { order: string[][]; problems: Problem[] } {
  const ids = services.filter((s) => s.type !== 'infrastructure').map((s) => s.id);
  const idSet = new Set(ids);
  const deps = new Map<string, Set<string>>(ids.map((id) => [id, new Set()]));
  // A queue between two services orders nothing: each waits on the broker, not on the other.
  for (const e of edges) {
    if (e.kind !== 'broker' && idSet.has(e.from) && idSet.has(e.to) && e.from !== e.to) deps.get(e.from)!.add(e.to);
  }

  const problems: Problem[] = [];
  const cycles = stronglyConnected(ids, (id) => [...deps.get(id)!])
    .filter((c) => c.length > 1)
    .map((c) => c.sort());
  for (const cycle of cycles) {
    const names = cycle.map((id) => services.find((s) => s.id === id)!.name);
    const edge = edges.find((e) => e.kind !== 'broker' && cycle.includes(e.from) && cycle.includes(e.to));
    problems.push({
      severity: 'error',
      code: 'dependency-cycle',
      file: edge?.evidence[0]?.file,
      line: edge?.evidence[0]?.line,
      serviceId: cycle[0],
      message: `Dependency cycle: ${[...names, names[0]].join(' → ')}. Break one dependency (e.g. connect lazily or drop a depends_on) so the services can start in order.`,
    });
  }
  const inCycle = new Set(cycles.flat());
  const order: string[][] = [];
  const placed = new Set<string>();
  let remaining = ids.filter((id) => !inCycle.has(id));
  while (remaining.length) {
    const wave = remaining.filter((id) => [...deps.get(id)!].every((d) => placed.has(d)));
    if (wave.length === 0) break; // only services depending on a cycle are left
    wave.sort();
    order.push(wave);
    wave.forEach((id) => placed.add(id));
    remaining = remaining.filter((id) => !placed.has(id));
  }
  if (cycles.length) {
    const cycleWave = [...inCycle].sort();
    order.push(cycleWave);
    cycleWave.forEach((id) => placed.add(id));
    while (remaining.length) {
      const wave = remaining.filter((id) => [...deps.get(id)!].every((d) => placed.has(d)));
      if (wave.length === 0) {
        order.push([...remaining].sort());
        break;
      }
      wave.sort();
      order.push(wave);
      wave.forEach((id) => placed.add(id));
      remaining = remaining.filter((id) => !placed.has(id));
    }
  }
  return { order, problems };
}
