// The answers behind Kyozo's agent tools (kyozo mcp's tools and the editor's language-model tools): the topology in
// the few fields an agent needs, and "which service serves this route, reads this env var, talks to that service,
// owns this file". Both surfaces call these on the same FolderDescriber, so an agent gets the same answer from either.
import type { Topology } from '../../protocol';
import { ServiceIndex } from '../deploy/service-index';
import type { FolderDescriber } from './folder-describer';

/** Input an agent gave that no answer fits (the caller turns it into its surface's "invalid params" error). */
export class AgentInputError extends Error {}

export interface FindQuery {
  route?: string;
  env?: string;
  talksTo?: string;
  file?: string;
}

/** The services of the topology in the few fields an agent needs, with their dependencies by name. */
export function compactTopology(t: Topology) {
  const name = (id: string) => t.services.find((s) => s.id === id)?.name ?? id;
  return {
    name: t.name,
    services: t.services.map((s) => ({
      name: s.name,
      folder: s.folder,
      type: s.type,
      language: s.language,
      frameworks: s.frameworks,
      ports: s.ports.map((p) => p.container),
      image: s.image,
      start: s.start?.command,
      dependsOn: [...new Set(t.edges.filter((e) => e.from === s.id).map((e) => `${name(e.to)} (${e.kind})`))],
    })),
    libraries: t.libraries.map((l) => ({ name: l.name, folder: l.folder })),
    order: t.order.map((wave) => wave.map(name)),
    patterns: t.patterns.map((p) => p.description),
    problems: t.problems.map((p) => `${p.severity}: ${p.message}`),
  };
}

/** kyozo_find: exactly one of route, env, talksTo, file. Throws AgentInputError, UnknownServiceError or FolderNotFoundError. */
export async function findInWorkspace(describer: FolderDescriber, args: FindQuery): Promise<unknown> {
  const given = Object.entries(args).filter(([, v]) => v !== undefined);
  if (given.length !== 1)
    throw new AgentInputError(`give exactly one of route, env, talksTo, file (got ${given.length})`);
  const describe = (folder: string) => describer.describe(folder, describer.root);
  const t = describer.topology();
  const services = t.services.filter((s) => !s.composeOnly);
  if (args.route !== undefined) {
    const m = /^\s*(?:([A-Za-z]+)\s+)?(\S+)\s*$/.exec(args.route);
    const method = m?.[1]?.toUpperCase();
    const target = m?.[2] ?? args.route;
    const matches = [];
    for (const s of services) {
      const d = await describe(s.folder);
      for (const c of d.capabilities.value) {
        if (c.kind === 'http-route') {
          const [verb, path] = c.name.split(' ');
          if (path === target && (!method || verb === method || verb === 'ANY'))
            matches.push({ service: s.name, capability: c });
        } else if (
          c.kind === 'grpc-method' &&
          (c.name === target || c.name.endsWith(`.${target}`) || c.name.endsWith(`/${target}`))
        ) {
          matches.push({ service: s.name, capability: c });
        }
      }
    }
    return { route: args.route, matches };
  }
  if (args.env !== undefined) {
    const matches = [];
    for (const s of services) {
      const d = await describe(s.folder);
      if (d.envRead.value.includes(args.env)) {
        const evidence = d.envRead.evidence.filter((e) => e.reason.endsWith(` ${args.env}`));
        matches.push({ service: s.name, folder: s.folder, evidence });
      }
    }
    return { env: args.env, matches };
  }
  if (args.talksTo !== undefined) {
    const target = ServiceIndex.of(t).require(args.talksTo);
    const name = (id: string) => t.services.find((s) => s.id === id)?.name ?? id;
    return {
      service: target.name,
      calledBy: t.edges
        .filter((e) => e.to === target.id)
        .map((e) => ({ service: name(e.from), kind: e.kind, evidence: e.evidence })),
      calls: t.edges
        .filter((e) => e.from === target.id)
        .map((e) => ({ service: name(e.to), kind: e.kind, evidence: e.evidence })),
    };
  }
  const file = args.file!;
  const rel = describer.fileIndex().relative(file.startsWith('/') ? file : `${describer.root}/${file}`);
  if (rel === undefined)
    throw new AgentInputError(`${file} is outside the workspace ${describer.root}; pass a path inside it`);
  const folder = rel.includes('/') ? rel.slice(0, rel.lastIndexOf('/')) : '.';
  const d = await describe(folder);
  const owner = services
    .filter((s) => s.folder === '.' || rel === s.folder || rel.startsWith(`${s.folder}/`))
    .sort((a, b) => b.folder.length - a.folder.length)[0];
  const library = t.libraries.find((l) => rel.startsWith(`${l.folder}/`));
  return {
    file: rel,
    folder,
    purpose: d.purpose.value,
    service: owner?.name,
    serviceFolder: owner?.folder,
    library: library?.name,
  };
}
