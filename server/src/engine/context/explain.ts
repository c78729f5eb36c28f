// Explanations: for a service or any folder, every fact with the evidence behind it, as data (for the LSP
// and AI agents) and as text (for people).
import * as path from 'node:path';
import type { Edge, Evidence, Library, Service, Topology } from '../../protocol';
import { ServiceIndex } from '../deploy/service-index';

export interface Explanation {
  target: string;
  /** What the folder is: a service, part of one, a library, a group, or nothing Kyozo deploys. */
  kind: 'service' | 'inside-service' | 'library' | 'group' | 'none';
  service?: Service;
  library?: Library;
  dependsOn: Edge[];
  dependents: Edge[];
  facts: { field: string; value: string; evidence: Evidence[] }[];
  summary: string;
}

function where(e: Evidence | undefined): string {
  return e ? `${e.file}${e.line ? `:${e.line}` : ''}` : 'convention';
}

/** Finds a service by id, name or folder; a folder inside a service resolves to that service. */
export function resolveTarget(
  topology: Topology,
  target: string,
  cwd = process.cwd(),
): { service?: Service; library?: Library; folder: string } {
  const index = ServiceIndex.of(topology);
  const byKey = index.find(target);
  if (byKey) return { service: byKey, folder: byKey.folder };
  const abs = path.resolve(cwd, target);
  let folder = path.relative(topology.root, abs).split(path.sep).join('/') || '.';
  if (folder.startsWith('..')) folder = target.replace(/^\.\//, '').replace(/\/$/, '') || '.';
  const exact = index.atFolder(folder);
  if (exact) return { service: exact, folder };
  const library = topology.libraries.find((l) => l.folder === folder);
  if (library) return { library, folder };
  const owner = topology.services
    .filter((s) => !s.composeOnly && (s.folder === '.' || folder.startsWith(`${s.folder}/`)))
    .sort((a, b) => b.folder.length - a.folder.length)[0];
  return { service: owner, folder };
}

export function explain(topology: Topology, target: string, cwd?: string): Explanation {
  const { service, library, folder } = resolveTarget(topology, target, cwd);
  const group = topology.groups.find((g) => g.id === folder);
  if (library) {
    return {
      target,
      kind: 'library',
      library,
      dependsOn: [],
      dependents: [],
      facts: [{ field: 'library', value: library.name, evidence: library.evidence }],
      summary: `${folder} is the library ${library.name}${library.language ? ` (${library.language})` : ''}: nothing in it starts or listens, so it is built into the services that use it: ${
        topology.services
          .filter((s) => s.libraries?.includes(library.id))
          .map((s) => s.name)
          .join(', ') || 'none found'
      }.`,
    };
  }
  if (!service) {
    return {
      target,
      kind: group ? 'group' : 'none',
      dependsOn: [],
      dependents: [],
      facts: group
        ? [{ field: 'group', value: `${group.tool} with ${group.members.length} members`, evidence: group.evidence }]
        : [],
      summary: group
        ? `${folder} is a ${group.kind === 'compose' ? 'compose stack' : `${group.tool} workspace`} grouping ${group.members.join(', ') || 'no services'}; it is not a service itself.`
        : `${folder} is not a service and belongs to none: no Dockerfile, compose service, manifest with something to start, or kyozo.yaml was found there.`,
    };
  }
  const inside = service.folder !== folder && !(folder === target && service.name === target) && service.id !== target;
  const facts: Explanation['facts'] = [];
  facts.push({
    field: 'type',
    value: `${service.type}${service.language ? ` (${service.language})` : ''} — confidence ${Math.round(service.confidence * 100)}%`,
    evidence: service.evidence.slice(0, 4),
  });
  if (service.frameworks.length)
    facts.push({
      field: 'frameworks',
      value: service.frameworks.join(', '),
      evidence: service.evidence.filter((e) => /depends on|application|convention/.test(e.reason)).slice(0, 3),
    });
  service.ports.forEach((p, i) =>
    facts.push({
      field: i === 0 ? 'port' : 'also listens',
      value: `${p.container}/${p.protocol}${p.host ? ` (host ${p.host})` : ''} from ${p.source}`,
      evidence: [p.evidence],
    }),
  );
  if (service.start) facts.push({ field: 'start', value: service.start.command, evidence: [service.start.evidence] });
  if (service.build)
    facts.push({
      field: 'build',
      value: service.build.dockerfile
        ? `Dockerfile ${service.build.dockerfile}`
        : `generated Dockerfile (${service.build.runtime ?? 'unknown runtime'})`,
      evidence: [service.build.evidence],
    });
  if (service.image) facts.push({ field: 'image', value: service.image, evidence: service.evidence.slice(0, 1) });
  if (service.healthCheck) {
    const hc = service.healthCheck;
    const value: Record<string, string> = {
      http: `HTTP ${hc.path}`,
      tcp: `TCP ${hc.port}`,
      grpc: `gRPC health service on ${hc.port ?? 'the main port'}`,
    };
    facts.push({ field: 'health', value: value[hc.kind] ?? (hc.command ?? []).join(' '), evidence: [hc.evidence] });
  }
  if (service.env.length)
    facts.push({
      field: 'environment',
      value: service.env.map((e) => e.name).join(', '),
      evidence: service.env.slice(0, 6).map((e) => e.evidence),
    });
  const dependsOn = topology.edges.filter((e) => e.from === service.id);
  const dependents = topology.edges.filter((e) => e.to === service.id);
  const nameOf = (id: string) => topology.services.find((s) => s.id === id)?.name ?? id;
  for (const e of dependsOn)
    facts.push({
      field: 'depends on',
      value: `${nameOf(e.to)} (${e.kind}${e.envVar ? ` via ${e.envVar}` : ''})`,
      evidence: e.evidence,
    });
  for (const e of dependents)
    facts.push({ field: 'used by', value: `${nameOf(e.from)} (${e.kind})`, evidence: e.evidence });
  const wave = topology.order.findIndex((w) => w.includes(service.id));
  const summary =
    `${inside ? `${folder} is part of the service ${service.name} (${service.folder}). ` : ''}${service.name} is a ${service.type} service${service.frameworks.length ? ` built with ${service.frameworks.join(', ')}` : ''}` +
    `${service.ports[0] ? `, listening on ${service.ports[0].container} (${service.ports[0].source}, ${where(service.ports[0].evidence)})` : ', listening on no port'}` +
    `${service.start ? `, started with \`${service.start.command}\`` : ''}. ` +
    `${dependsOn.length ? `It needs ${[...new Set(dependsOn.map((e) => nameOf(e.to)))].join(', ')}` : 'It depends on no other service'}` +
    `${wave >= 0 ? ` and starts in wave ${wave + 1} of ${topology.order.length}` : ''}.`;
  return { target, kind: inside ? 'inside-service' : 'service', service, dependsOn, dependents, facts, summary };
}

export function formatExplanation(x: Explanation): string {
  const lines = [x.summary, ''];
  for (const f of x.facts) {
    lines.push(`${f.field.padEnd(13)} ${f.value}`);
    for (const e of f.evidence) lines.push(`${''.padEnd(13)}   ↳ ${where(e)}  ${e.reason}`);
  }
  return lines.join('\n').trimEnd();
}
