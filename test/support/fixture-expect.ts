// Expected topologies written as plain data, and one checker that compares a real Topology against them.
// The checker collects every mismatch of a fixture into one list, so a failing test shows everything the
// engine got wrong at once (not only the first difference).
import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type {
  EdgeKind,
  HealthCheck,
  PatternKind,
  PortSource,
  ServiceType,
  StartSpec,
  Topology,
  BuildSpec,
} from '../../server/src/protocol';

export const FIXTURES = join(__dirname, '..', 'fixtures');

export interface ExpectedPort {
  container: number;
  source: PortSource;
  /** Evidence file, relative to the fixture root. */
  file?: string;
  line?: number;
  host?: number;
  envVar?: string;
}

export interface ExpectedService {
  type?: ServiceType;
  name?: string;
  /** Each must match one of the service's frameworks (case and punctuation ignored, prefix allowed: actix ~ actix-web). */
  frameworks?: string[];
  /** The main (strongest) port; `null` = the service lists no port. */
  port?: ExpectedPort | null;
  /** Start command must contain `includes`; `source` checked when given. */
  /** Every port as `container/protocol` (exact set). */
  allPorts?: string[];
  start?: { includes: string; source?: StartSpec['source'] };
  /** `null` = no health check is known, so a `no-health-endpoint` recommendation is expected for it. */
  health?: { kind: HealthCheck['kind']; path?: string } | null;
  /** Dockerfile used to build (relative to the root); `null` = none, so a `no-dockerfile` recommendation is expected. */
  dockerfile?: string | null;
  packageManager?: BuildSpec['packageManager'];
  /** Library ids this service uses (exact set). */
  libraries?: string[];
  image?: string;
  replicas?: number;
  resources?: { memoryMb?: number; cpus?: number };
  baseImage?: string;
  /** Environment variables that must be present with these values. */
  env?: Record<string, string>;
}

/** [from, to, kind]; kind '*' = at least one edge from→to of any kind. */
export type ExpectedEdge = [string, string, EdgeKind | '*'];

export interface ExpectedProblem {
  code: string;
  file?: string;
  line?: number;
  /** Words the message must contain (e.g. the members of a cycle). */
  messageIncludes?: string[];
}

export interface ExpectedRecommendation {
  code: string;
  serviceId?: string;
  file?: string;
  /** Words the message must contain (the env var, the candidate services). */
  messageIncludes?: string[];
}

/** Evidence an edge must carry (each item must be among the edge's evidence; more is allowed). */
export interface ExpectedEdgeEvidence {
  edge: [string, string, EdgeKind];
  evidence: { file: string; line?: number; reasonIncludes?: string }[];
  envVar?: string;
}

export interface ExpectedTopology {
  /** Exact set of service ids, with per-service facts. */
  services: Record<string, ExpectedService>;
  /** Exact set of (from, to, kind) edges, apart from `optionalEdges`. */
  edges: ExpectedEdge[];
  /** Edges the engine may or may not report (SEMANTICS.md leaves them open). */
  optionalEdges?: ExpectedEdge[];
  order: string[][];
  /** Pattern kinds that must be reported; anything else reported must be in `optionalPatterns`. */
  patterns: PatternKind[];
  optionalPatterns?: PatternKind[];
  /** At least one kind of each list must be reported (where SEMANTICS allows either name). */
  patternsOneOf?: PatternKind[][];
  /** Problems (severity error or warning) must be exactly these, matched by code, then file/line when given. */
  problems: ExpectedProblem[];
  /** Exact set of library ids. */
  libraries: string[];
  recommendations?: ExpectedRecommendation[];
  forbiddenRecommendations?: ExpectedRecommendation[];
  groups?: { id: string; kind: 'compose' | 'workspace'; tool?: string[] }[];
  /** Exact set of service names (where which folder gets a collision suffix is left to the engine). */
  names?: string[];
  /** No service evidence / indicator may point below these (ignored folders). */
  forbiddenPathPrefixes?: string[];
  edgeEvidence?: ExpectedEdgeEvidence[];
}

const norm = (s: string) => s.toLowerCase().replace(/[^a-z0-9]/g, '');
const FRAMEWORK_ALIASES: Record<string, string[]> = {
  nestjs: ['nest'],
  nethttp: ['http', 'gohttp', 'stdlib'],
  springboot: ['spring'],
};

export function frameworkMatches(actual: string[], expected: string): boolean {
  const e = norm(expected);
  const accepted = [e, ...(FRAMEWORK_ALIASES[e] ?? [])];
  return actual.some((a) => accepted.some((x) => norm(a) === x || norm(a).startsWith(x)));
}

/** What holds for every topology, whatever the fixture: ids, names, evidence, order, edges. */
export function checkInvariants(topo: Topology): string[] {
  const out: string[] = [];
  const ids = new Set(topo.services.map((s) => s.id));
  const names = new Set<string>();
  const fileExists = (f: string) => existsSync(join(topo.root, f));
  for (const s of topo.services) {
    if (!/^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/.test(s.name)) out.push(`service ${s.id}: name "${s.name}" is not DNS-safe`);
    if (names.has(s.name)) out.push(`service ${s.id}: name "${s.name}" is not unique`);
    names.add(s.name);
    if (!(s.confidence > 0 && s.confidence <= 1))
      out.push(`service ${s.id}: confidence ${s.confidence} outside (0, 1]`);
    if (!s.evidence.length) out.push(`service ${s.id}: no evidence`);
    for (const ev of [...s.evidence, ...s.ports.map((x) => x.evidence), ...(s.start ? [s.start.evidence] : [])]) {
      if (!ev?.file || !ev.reason) out.push(`service ${s.id}: evidence without file or reason: ${JSON.stringify(ev)}`);
      else if (ev.file.includes('\\') || ev.file.startsWith('/') || !fileExists(ev.file))
        out.push(`service ${s.id}: evidence file ${ev.file} is not a file under the root`);
    }
    for (const x of s.ports) {
      if (!Number.isInteger(x.container) || x.container < 1 || x.container > 65535)
        out.push(`service ${s.id}: port ${x.container} out of range`);
    }
  }
  for (const e of topo.edges) {
    if (!ids.has(e.from) || !ids.has(e.to)) out.push(`edge ${e.from} -> ${e.to} names an unknown service`);
    if (e.from === e.to) out.push(`edge ${e.from} -> ${e.to} is a self-loop`);
    if (!e.evidence.length) out.push(`edge ${e.from} -> ${e.to} [${e.kind}] has no evidence`);
    if (!(typeof e.confidence === 'number' && e.confidence > 0 && e.confidence <= 1)) {
      out.push(`edge ${e.from} -> ${e.to} [${e.kind}] has confidence ${e.confidence}, expected one in (0, 1]`);
    }
    for (const ev of e.evidence) {
      if (ev.file && !ev.file.startsWith('/') && fileExists(ev.file)) continue;
      out.push(`edge ${e.from} -> ${e.to}: evidence file ${ev.file} is not a file under the root`);
    }
  }
  const inOrder = topo.order.flat();
  const deployable = topo.services
    .filter((s) => s.type !== 'infrastructure')
    .map((s) => s.id)
    .sort();
  if (JSON.stringify([...inOrder].sort()) !== JSON.stringify(deployable)) {
    out.push(
      `order must hold every deployable service exactly once: order has [${[...inOrder].sort().join(', ')}], services [${deployable.join(', ')}]`,
    );
  }
  for (const wave of topo.order) {
    if (JSON.stringify(wave) !== JSON.stringify([...wave].sort()))
      out.push(`order wave ${JSON.stringify(wave)} is not sorted`);
  }
  for (const p of topo.problems) {
    if (p.file && !fileExists(p.file)) out.push(`problem ${p.code}: file ${p.file} is not under the root`);
  }
  // CRLF files and byte order marks must not leak into commands, names or values
  const leaked = JSON.stringify(topo.services).match(/.{0,40}(\\r|\\ufeff|\ufeff).{0,20}/);
  if (leaked) out.push(`a carriage return or byte order mark leaked into the topology: ${leaked[0]}`);
  return out;
}

/** Compare a topology with its expectation; returns human-readable mismatches (empty = all good). */
export function checkTopology(topo: Topology, exp: ExpectedTopology): string[] {
  const out: string[] = checkInvariants(topo);
  const byId = new Map(topo.services.map((s) => [s.id, s]));

  const actualIds = [...byId.keys()].sort();
  const expectedIds = Object.keys(exp.services).sort();
  const missing = expectedIds.filter((id) => !byId.has(id));
  const extra = actualIds.filter((id) => !(id in exp.services));
  if (missing.length) out.push(`services missing: ${missing.join(', ')} (got ${actualIds.join(', ') || 'none'})`);
  if (extra.length) out.push(`services not expected: ${extra.join(', ')}`);

  const recs = topo.recommendations ?? [];
  const hasRec = (code: string, serviceId?: string, file?: string, words: string[] = []) =>
    recs.some(
      (r) =>
        r.code === code &&
        (serviceId === undefined || r.serviceId === serviceId) &&
        (file === undefined || r.file === file) &&
        words.every((w) => r.message.includes(w)),
    );

  for (const [id, e] of Object.entries(exp.services)) {
    const s = byId.get(id);
    if (!s) continue;
    const p = `service ${id}:`;
    if (e.type !== undefined && s.type !== e.type) out.push(`${p} type ${s.type}, expected ${e.type}`);
    if (e.name !== undefined && s.name !== e.name) out.push(`${p} name ${s.name}, expected ${e.name}`);
    for (const f of e.frameworks ?? []) {
      if (!frameworkMatches(s.frameworks ?? [], f))
        out.push(`${p} frameworks [${(s.frameworks ?? []).join(', ')}] lack ${f}`);
    }
    if (e.port === null) {
      if (s.ports.length)
        out.push(`${p} expected no port, got ${s.ports.map((x) => `${x.container}/${x.source}`).join(', ')}`);
    } else if (e.port) {
      const m = s.ports[0];
      if (!m) out.push(`${p} no port, expected ${e.port.container} from ${e.port.source}`);
      else {
        const got = `${m.container} from ${m.source} (${m.evidence?.file}:${m.evidence?.line ?? '?'}${m.host ? ', host ' + m.host : ''}${m.envVar ? ', env ' + m.envVar : ''})`;
        const want = e.port;
        const wrong =
          want.container !== m.container ||
          want.source !== m.source ||
          (want.file !== undefined && want.file !== m.evidence?.file) ||
          (want.line !== undefined && want.line !== m.evidence?.line) ||
          (want.host !== undefined && want.host !== m.host) ||
          (want.envVar !== undefined && want.envVar !== m.envVar);
        if (wrong) {
          out.push(
            `${p} main port ${got}, expected ${want.container} from ${want.source}` +
              ` (${want.file ?? '*'}:${want.line ?? '*'}${want.host ? ', host ' + want.host : ''}${want.envVar ? ', env ' + want.envVar : ''})`,
          );
        }
      }
    }
    if (e.allPorts) {
      const got = [...new Set(s.ports.map((x) => `${x.container}/${x.protocol}`))].sort().join(', ');
      if (got !== [...e.allPorts].sort().join(', '))
        out.push(`${p} ports [${got}], expected [${[...e.allPorts].sort().join(', ')}]`);
    }
    if (e.start) {
      if (!s.start) out.push(`${p} no start command, expected one containing "${e.start.includes}"`);
      else {
        if (!s.start.command.includes(e.start.includes))
          out.push(`${p} start "${s.start.command}" does not contain "${e.start.includes}"`);
        if (e.start.source && s.start.source !== e.start.source)
          out.push(`${p} start source ${s.start.source}, expected ${e.start.source}`);
      }
    }
    if (e.health === null) {
      if (!hasRec('no-health-endpoint', id)) out.push(`${p} expected a no-health-endpoint recommendation`);
    } else if (e.health) {
      const h = s.healthCheck;
      if (!h) out.push(`${p} no health check, expected ${e.health.kind}${e.health.path ? ' ' + e.health.path : ''}`);
      else {
        if (h.kind !== e.health.kind) out.push(`${p} health kind ${h.kind}, expected ${e.health.kind}`);
        if (e.health.path !== undefined && h.path !== e.health.path)
          out.push(`${p} health path ${h.path}, expected ${e.health.path}`);
      }
      if (hasRec('no-health-endpoint', id))
        out.push(`${p} a health check is expected, yet it has a no-health-endpoint recommendation`);
    }
    if (e.dockerfile === null) {
      if (!hasRec('no-dockerfile', id)) out.push(`${p} expected a no-dockerfile recommendation`);
      if (s.build?.dockerfile) out.push(`${p} build.dockerfile ${s.build.dockerfile}, expected none`);
    } else if (e.dockerfile !== undefined) {
      if (s.build?.dockerfile !== e.dockerfile)
        out.push(`${p} build.dockerfile ${s.build?.dockerfile}, expected ${e.dockerfile}`);
      if (hasRec('no-dockerfile', id))
        out.push(`${p} a Dockerfile is expected, yet it has a no-dockerfile recommendation`);
    }
    if (e.packageManager !== undefined && s.build?.packageManager !== e.packageManager) {
      out.push(`${p} packageManager ${s.build?.packageManager}, expected ${e.packageManager}`);
    }
    if (e.libraries !== undefined) {
      const got = [...(s.libraries ?? [])].sort().join(', ');
      if (got !== [...e.libraries].sort().join(', '))
        out.push(`${p} libraries [${got}], expected [${e.libraries.join(', ')}]`);
    }
    if (e.image !== undefined && s.image !== e.image) out.push(`${p} image ${s.image}, expected ${e.image}`);
    if (e.replicas !== undefined && s.replicas !== e.replicas)
      out.push(`${p} replicas ${s.replicas}, expected ${e.replicas}`);
    if (e.resources) {
      if (e.resources.memoryMb !== undefined && s.resources?.memoryMb !== e.resources.memoryMb)
        out.push(`${p} memoryMb ${s.resources?.memoryMb}, expected ${e.resources.memoryMb}`);
      if (e.resources.cpus !== undefined && s.resources?.cpus !== e.resources.cpus)
        out.push(`${p} cpus ${s.resources?.cpus}, expected ${e.resources.cpus}`);
    }
    if (e.baseImage !== undefined && s.build?.baseImage !== e.baseImage)
      out.push(`${p} baseImage ${s.build?.baseImage}, expected ${e.baseImage}`);
    for (const [k, v] of Object.entries(e.env ?? {})) {
      const got = s.env.find((x) => x.name === k);
      if (!got) out.push(`${p} env ${k} missing`);
      else if (got.value !== v) out.push(`${p} env ${k}=${got.value}, expected ${v}`);
    }
  }

  // Edges: exact set apart from optional ones.
  const key = (f: string, t: string, k: string) => `${f} -> ${t} [${k}]`;
  const actualEdges = new Set(topo.edges.map((x) => key(x.from, x.to, x.kind)));
  const wildcard = exp.edges.filter((x) => x[2] === '*').concat((exp.optionalEdges ?? []).filter((x) => x[2] === '*'));
  const allowed = new Set(
    [...exp.edges, ...(exp.optionalEdges ?? [])].filter((x) => x[2] !== '*').map((x) => key(...x)),
  );
  for (const [f, t, k] of exp.edges) {
    if (k === '*') {
      if (!topo.edges.some((x) => x.from === f && x.to === t)) out.push(`edge missing: ${f} -> ${t} (any kind)`);
    } else if (!actualEdges.has(key(f, t, k))) out.push(`edge missing: ${key(f, t, k)}`);
  }
  for (const x of topo.edges) {
    const k = key(x.from, x.to, x.kind);
    if (!allowed.has(k) && !wildcard.some(([f, t]) => f === x.from && t === x.to)) out.push(`edge not expected: ${k}`);
  }

  for (const x of exp.edgeEvidence ?? []) {
    const [f, t, k] = x.edge;
    const edge = topo.edges.find((e) => e.from === f && e.to === t && e.kind === k);
    if (!edge) continue; // reported above as a missing edge
    if (x.envVar !== undefined && edge.envVar !== x.envVar) {
      out.push(`edge ${key(f, t, k)}: envVar ${edge.envVar}, expected ${x.envVar}`);
    }
    for (const want of x.evidence) {
      const hit = edge.evidence.some(
        (e) =>
          e.file === want.file &&
          (want.line === undefined || e.line === want.line) &&
          (want.reasonIncludes === undefined || e.reason.includes(want.reasonIncludes)),
      );
      if (!hit) {
        const got = edge.evidence.map((e) => `${e.file}:${e.line ?? '?'} "${e.reason}"`).join('; ');
        out.push(
          `edge ${key(f, t, k)}: no evidence at ${want.file}:${want.line ?? '*'}` +
            `${want.reasonIncludes ? ` saying "${want.reasonIncludes}"` : ''} (got ${got})`,
        );
      }
    }
  }

  const orderGot = JSON.stringify(topo.order);
  const orderExp = JSON.stringify(exp.order);
  if (orderGot !== orderExp) out.push(`order ${orderGot}, expected ${orderExp}`);

  const kinds = new Set(topo.patterns.map((x) => x.kind));
  for (const k of exp.patterns) if (!kinds.has(k)) out.push(`pattern missing: ${k}`);
  for (const group of exp.patternsOneOf ?? []) {
    if (!group.some((k) => kinds.has(k))) out.push(`pattern missing: one of ${group.join(' / ')}`);
  }
  for (const k of kinds) {
    if (!exp.patterns.includes(k) && !(exp.optionalPatterns ?? []).includes(k)) out.push(`pattern not expected: ${k}`);
  }

  const problems = topo.problems.filter((x) => x.severity !== 'info');
  const unmatched = [...problems];
  for (const e of exp.problems) {
    const i = unmatched.findIndex(
      (x) =>
        x.code === e.code &&
        (e.file === undefined || x.file === e.file) &&
        (e.line === undefined || x.line === e.line) &&
        (e.messageIncludes ?? []).every((w) => x.message.includes(w)),
    );
    if (i < 0) {
      const sameCode = problems.filter((x) => x.code === e.code).map((x) => `${x.file}:${x.line} "${x.message}"`);
      out.push(
        `problem missing: ${e.code}${e.file ? ' at ' + e.file + (e.line ? ':' + e.line : '') : ''}` +
          `${e.messageIncludes ? ' naming ' + e.messageIncludes.join(', ') : ''}${sameCode.length ? ` (got ${sameCode.join('; ')})` : ''}`,
      );
    } else unmatched.splice(i, 1);
  }
  const expectedCodes = new Set(exp.problems.map((x) => x.code));
  for (const x of unmatched) {
    if (!expectedCodes.has(x.code))
      out.push(`problem not expected: ${x.code} ${x.file ?? ''}:${x.line ?? ''} "${x.message}"`);
  }

  const libs = topo.libraries
    .map((l) => l.id)
    .sort()
    .join(', ');
  if (libs !== [...exp.libraries].sort().join(', '))
    out.push(`libraries [${libs}], expected [${exp.libraries.join(', ')}]`);

  for (const r of exp.recommendations ?? []) {
    if (!hasRec(r.code, r.serviceId, r.file, r.messageIncludes)) {
      const same = recs.filter((x) => x.code === r.code).map((x) => `${x.serviceId ?? '-'}: "${x.message}"`);
      const naming = r.messageIncludes ? ' naming ' + r.messageIncludes.join(', ') : '';
      const where = `${r.serviceId ? ' for ' + r.serviceId : ''}${r.file ? ' in ' + r.file : ''}`;
      out.push(
        `recommendation missing: ${r.code}${where}` + `${naming}${same.length ? ` (got ${same.join('; ')})` : ''}`,
      );
    }
  }
  for (const r of exp.forbiddenRecommendations ?? []) {
    const hits = recs.filter(
      (x) =>
        x.code === r.code &&
        (r.serviceId === undefined || x.serviceId === r.serviceId) &&
        (r.file === undefined || x.file === r.file),
    );
    for (const x of hits)
      out.push(
        `recommendation not expected: ${x.code} for ${x.serviceId ?? '-'} (${x.file ?? ''}:${x.line ?? ''}) "${x.message}"`,
      );
  }

  for (const g of exp.groups ?? []) {
    const got = topo.groups.find((x) => x.id === g.id && x.kind === g.kind);
    if (!got)
      out.push(
        `group missing: ${g.kind} at ${g.id} (got ${topo.groups.map((x) => `${x.kind}@${x.id}`).join(', ') || 'none'})`,
      );
    else if (g.tool && !g.tool.some((t) => norm(got.tool).includes(norm(t))))
      out.push(`group ${g.id} tool ${got.tool}, expected one of ${g.tool.join(', ')}`);
  }

  if (exp.names) {
    const got = topo.services
      .map((s) => s.name)
      .sort()
      .join(', ');
    if (got !== [...exp.names].sort().join(', '))
      out.push(`names [${got}], expected [${[...exp.names].sort().join(', ')}]`);
  }
  for (const prefix of exp.forbiddenPathPrefixes ?? []) {
    for (const s of topo.services) {
      const files = [...s.indicators, ...s.evidence.map((x) => x.file), ...s.ports.map((x) => x.evidence.file)];
      const bad = files.filter((f) => f === prefix.replace(/\/$/, '') || f.startsWith(prefix));
      if (bad.length) out.push(`service ${s.id} uses ignored path ${bad[0]}`);
    }
  }
  return out;
}

/** Copy a fixture into a fresh temp folder (for tests that edit files or add symlinks). */
export function copyFixture(name: string): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `kyozo-fixture-${name}-`));
  cpSync(join(FIXTURES, name), dir, { recursive: true });
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A topology with the run-dependent fields cleared, for equality between two analyses of the same tree. */
export function stable(
  t: Topology,
): Omit<Topology, 'generatedAt' | 'stats'> & { stats: { files: number; folders: number } } {
  const { generatedAt: _g, stats, ...rest } = t;
  return { ...rest, stats: { files: stats.files, folders: stats.folders } };
}
