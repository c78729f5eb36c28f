// A small typed builder for hand-made Topology objects (deploy and compose tests that need shapes a
// fixture folder would make awkward, such as image-only databases or replicas).
import type { Edge, PortSpec, Service, Topology } from '../../server/src/protocol';
import { TOPOLOGY_VERSION } from '../../server/src/protocol';

const evidence = { file: 'test', reason: 'built by the test' };

export function port(container: number, extra: Partial<PortSpec> = {}): PortSpec {
  return { container, protocol: 'tcp', source: 'code', evidence, ...extra };
}

export function service(id: string, fields: Partial<Service> = {}): Service {
  const name =
    fields.name ??
    id
      .split(/[/#]/)
      .pop()!
      .toLowerCase()
      .replace(/[^a-z0-9-]/g, '-');
  return {
    id,
    name,
    folder: id.includes('#') ? '.' : id,
    type: 'nodejs',
    frameworks: [],
    confidence: 1,
    evidence: [evidence],
    ports: [],
    env: [],
    replicas: 1,
    indicators: [],
    // As the engine names a service only a compose file declares: `<compose file>#<name>`.
    ...(id.includes('#')
      ? { composeOnly: { file: id.slice(0, id.indexOf('#')), name: id.slice(id.indexOf('#') + 1) } }
      : {}),
    ...fields,
  };
}

export function edge(from: string, to: string, extra: Partial<Edge> = {}): Edge {
  return { from, to, kind: 'env-url', evidence: [evidence], ...extra };
}

/** Waves computed from the edges (Kahn's algorithm); a cycle's members go in one last wave. */
export function topology(root: string, name: string, services: Service[], edges: Edge[] = []): Topology {
  const remaining = new Set(services.map((s) => s.id));
  const order: string[][] = [];
  while (remaining.size) {
    const wave = [...remaining]
      .filter((id) => !edges.some((e) => e.from === id && e.to !== id && remaining.has(e.to)))
      .sort();
    const next = wave.length ? wave : [...remaining].sort();
    order.push(next);
    for (const id of next) remaining.delete(id);
  }
  return {
    version: TOPOLOGY_VERSION,
    root,
    name,
    generatedAt: new Date().toISOString(),
    services,
    edges,
    libraries: [],
    groups: [],
    patterns: [],
    order,
    problems: [],
    recommendations: [],
    stats: { files: 0, folders: 0, durationMs: 0 },
  };
}
