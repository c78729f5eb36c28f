// Shared operations in a room's Y.Doc, beside the shared files and encrypted like them: the host's services (a trimmed
// topology), their live status and deployment events, and the guests' signed requests to act on them (deploy, stop,
// restart, scale, logs) with the host's answers and log lines. Plain code (no editor API): the extension, the unit
// tests and the Node peers of the end-to-end tests use the same functions.
//
// A request is signed with the guest's device Ed25519 key over (room, action, service, args, nonce, time). The host
// accepts it only if the signature verifies against a device key the sync server lists for a member of the room's
// team whose role is member, admin or owner; a nonce seen before and a time more than 60 s away are refused.
import { randomBytes } from 'node:crypto';
import * as Y from 'yjs';
import {
  TOPOLOGY_VERSION,
  type DeploymentEvent,
  type DeploymentEventType,
  type Edge,
  type Pattern,
  type Service,
  type ServiceStatus,
  type Topology,
} from '../../../server/src/protocol';
import { signBytes, verifyBytes, type DeviceIdentity } from '../../../sync-server/src/client/identity';

/** The Y types of shared operations, named apart from the shared files' kyozo.files / kyozo.texts / kyozo.meta. */
export const OPS_KEYS = {
  /** Y.Map: `host` (name), `services` (SharedTopology), `statuses` (SharedStatus[]). */
  state: 'kyozo.ops',
  /** Y.Array<SharedEvent>: the host's deployment events, newest last, the last 200 kept. */
  events: 'kyozo.ops.events',
  /** Y.Map<SignedRequest>, keyed by nonce. */
  requests: 'kyozo.ops.requests',
  /** Y.Map<RequestResult>, keyed by the request's nonce. */
  results: 'kyozo.ops.results',
  /** Y.Map<Y.Array<string>>: log chunks the host streams for a logs request, keyed by its nonce. */
  logs: 'kyozo.ops.logs',
  /** Y.Map<true>: a guest that closed its log terminal sets its nonce here, and the host stops following. */
  logStops: 'kyozo.ops.logStops',
} as const;

export const REMOTE_ACTIONS = ['deploy', 'stop', 'restart', 'scale', 'logs'] as const;
export type RemoteAction = (typeof REMOTE_ACTIONS)[number];

/** A request older (or further in the future) than this is refused as stale. */
export const REQUEST_MAX_AGE_MS = 60_000;
const MAX_EVENTS = 200;
const MAX_LOG_CHUNKS = 500;
const SIGNED_DOMAIN = 'kyozo-share/remote-action/1';

/** What a guest sees of a host's service: enough to list, badge and act on it, nothing of its files' contents. */
export interface SharedService {
  id: string;
  name: string;
  folder: string;
  type: Service['type'];
  language?: string;
  frameworks: string[];
  /** Container ports the service listens on. */
  ports: number[];
  indicators: string[];
  replicas: number;
  composeOnly?: boolean;
}

export interface SharedTopology {
  name: string;
  services: SharedService[];
  edges: { from: string; to: string; kind: Edge['kind'] }[];
  order: string[][];
  patterns: Pattern[];
}

/** A service's status as the host's engine reports it; no container ids, no URLs (they are the host's loopback). */
export interface SharedStatus {
  serviceId: string;
  name: string;
  state: ServiceStatus['state'];
  health: ServiceStatus['health'];
  replicas: { running: number; desired: number };
  /** Host ports the service is published on, on the host's machine. */
  hostPorts: number[];
  startedAt?: string;
  message?: string;
}

export type SharedEventType = DeploymentEventType | 'remote_action';

export interface SharedEvent {
  id: string;
  at: string;
  type: SharedEventType;
  serviceId?: string;
  durationMs?: number;
  message?: string;
  /** Set on remote actions: who asked (as the sync server names them). */
  requestedBy?: string;
}

export interface RequestArgs {
  /** scale: the replica count. */
  replicas?: number;
  /** logs: how many past lines to send first (1-1000, 200 by default). */
  tail?: number;
}

/** What the guest signs. */
export interface RemoteRequest {
  room: string;
  action: RemoteAction;
  service: string;
  args: RequestArgs;
  nonce: string;
  /** Milliseconds since the epoch, on the guest's clock. */
  time: number;
}

export interface SignedRequest extends RemoteRequest {
  /** The signing device's Ed25519 public key, base64. */
  signer: string;
  /** The guest's username as it says; the host names the requester as the sync server does. */
  user: string;
  /** Ed25519 signature over requestBytes(), base64. */
  sig: string;
}

export type ResultState = 'waiting' | 'running' | 'done' | 'failed' | 'refused';

export interface RequestResult {
  state: ResultState;
  at: number;
  /** Who asked, as the sync server names them (absent when the request was refused before that was known). */
  by?: string;
  /** Why it was refused or failed, or what it did. */
  message?: string;
  /** The service's state once done. */
  serviceState?: ServiceStatus['state'];
}

export const isFinal = (s: ResultState) => s === 'done' || s === 'failed' || s === 'refused';

// ───────────────────────────── publishing (host) and reading (guest) ─────────────────────────────

/** The part of a topology a guest sees (no absolute paths, no evidence, no environment values). */
export function shareTopology(t: Topology): SharedTopology {
  return {
    name: t.name,
    services: t.services.map((s) => ({
      id: s.id,
      name: s.name,
      folder: s.folder,
      type: s.type,
      ...(s.language ? { language: s.language } : {}),
      frameworks: [...s.frameworks],
      ports: s.ports.map((p) => p.container),
      indicators: [...s.indicators],
      replicas: s.replicas,
      ...(s.composeOnly ? { composeOnly: true } : {}),
    })),
    edges: t.edges.map((e) => ({ from: e.from, to: e.to, kind: e.kind })),
    order: t.order.map((w) => [...w]),
    patterns: t.patterns.map((p) => ({ kind: p.kind, services: [...p.services], description: p.description })),
  };
}

export function shareStatus(s: ServiceStatus): SharedStatus {
  return {
    serviceId: s.serviceId,
    name: s.name,
    state: s.state,
    health: s.health,
    replicas: { running: s.replicas.running, desired: s.replicas.desired },
    hostPorts: s.ports.map((p) => p.host),
    ...(s.startedAt ? { startedAt: s.startedAt } : {}),
    ...(s.message ? { message: s.message } : {}),
  };
}

export function shareEvent(e: DeploymentEvent): SharedEvent {
  return {
    id: e.id,
    at: e.at,
    type: e.type,
    ...(e.serviceId ? { serviceId: e.serviceId } : {}),
    ...(e.durationMs !== undefined ? { durationMs: e.durationMs } : {}),
    ...(e.message ? { message: e.message } : {}),
  };
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** Host: writes the services and host name (only what changed, so an unchanged analysis sends nothing). */
export function publishTopology(doc: Y.Doc, host: string, topology: SharedTopology): void {
  const m = doc.getMap(OPS_KEYS.state);
  doc.transact(() => {
    if (m.get('host') !== host) m.set('host', host);
    if (!same(m.get('services'), topology)) m.set('services', topology);
  });
}

export function publishStatuses(doc: Y.Doc, statuses: SharedStatus[]): void {
  const m = doc.getMap(OPS_KEYS.state);
  const sorted = [...statuses].sort((a, b) => a.serviceId.localeCompare(b.serviceId));
  if (!same(m.get('statuses'), sorted)) m.set('statuses', sorted);
}

/** Host: appends an event (once per id), keeping the last 200. */
export function publishEvent(doc: Y.Doc, event: SharedEvent): void {
  const a = doc.getArray<SharedEvent>(OPS_KEYS.events);
  doc.transact(() => {
    if (a.toArray().some((e) => e.id === event.id)) return;
    a.push([event]);
    if (a.length > MAX_EVENTS) a.delete(0, a.length - MAX_EVENTS);
  });
}

export interface SharedServices {
  host?: string;
  topology?: SharedTopology;
  statuses: SharedStatus[];
  events: SharedEvent[];
}

/** Guest: what the host published, as plain data. */
export function readShared(doc: Y.Doc): SharedServices {
  const m = doc.getMap(OPS_KEYS.state);
  const host = m.get('host');
  return {
    host: typeof host === 'string' ? host : undefined,
    topology: m.get('services') as SharedTopology | undefined,
    statuses: (m.get('statuses') as SharedStatus[] | undefined) ?? [],
    events: doc.getArray<SharedEvent>(OPS_KEYS.events).toArray(),
  };
}

/** Calls `fn` whenever the host's published services, statuses or events change; returns the unsubscribe. */
export function onSharedChange(doc: Y.Doc, fn: () => void): () => void {
  const m = doc.getMap(OPS_KEYS.state);
  const a = doc.getArray(OPS_KEYS.events);
  m.observe(fn);
  a.observe(fn);
  return () => {
    m.unobserve(fn);
    a.unobserve(fn);
  };
}

/** A full Topology from the shared one, so the views render a host's services as they render local ones. */
export function toTopology(t: SharedTopology): Topology {
  return {
    version: TOPOLOGY_VERSION,
    root: '',
    name: t.name,
    generatedAt: new Date().toISOString(),
    services: t.services.map((s) => ({
      id: s.id,
      name: s.name,
      folder: s.folder,
      type: s.type,
      ...(s.language ? { language: s.language } : {}),
      frameworks: s.frameworks,
      confidence: 1,
      evidence: [],
      ports: s.ports.map((container) => ({
        container,
        protocol: 'tcp' as const,
        source: 'config' as const,
        evidence: { file: s.folder, reason: 'published by the host' },
      })),
      env: [],
      replicas: s.replicas,
      indicators: s.indicators,
      ...(s.composeOnly ? { composeOnly: { file: '', name: s.name } } : {}),
    })),
    edges: t.edges.map((e) => ({ ...e, evidence: [] })),
    libraries: [],
    groups: [],
    patterns: t.patterns,
    order: t.order,
    problems: [],
    recommendations: [],
    stats: { files: 0, folders: 0, durationMs: 0 },
  };
}

export function toStatus(s: SharedStatus): ServiceStatus {
  return {
    serviceId: s.serviceId,
    name: s.name,
    state: s.state,
    health: s.health,
    replicas: s.replicas,
    ports: s.hostPorts.map((host) => ({ container: 0, host, protocol: 'tcp' as const })),
    containers: [],
    ...(s.startedAt ? { startedAt: s.startedAt } : {}),
    ...(s.message ? { message: s.message } : {}),
  };
}

// ───────────────────────────── requests (guest) ─────────────────────────────

/** The bytes a request's signature covers: a domain tag, then the fields in a fixed order, args with sorted keys. */
export function requestBytes(r: RemoteRequest): Buffer {
  const args = Object.fromEntries(Object.entries(r.args ?? {}).sort(([a], [b]) => a.localeCompare(b)));
  return Buffer.from(JSON.stringify([SIGNED_DOMAIN, r.room, r.action, r.service, args, r.nonce, r.time]), 'utf8');
}

export function signRequest(
  identity: DeviceIdentity,
  user: string,
  r: Omit<RemoteRequest, 'nonce' | 'time'> & Partial<Pick<RemoteRequest, 'nonce' | 'time'>>,
): SignedRequest {
  const full: RemoteRequest = {
    room: r.room,
    action: r.action,
    service: r.service,
    args: r.args ?? {},
    nonce: r.nonce ?? randomBytes(16).toString('base64url'),
    time: r.time ?? Date.now(),
  };
  return {
    ...full,
    signer: identity.signPublicKey.toString('base64'),
    user,
    sig: signBytes(identity, requestBytes(full)).toString('base64'),
  };
}

/** Guest: signs a request and writes it into the room; answers its nonce. */
export function sendRequest(
  doc: Y.Doc,
  identity: DeviceIdentity,
  user: string,
  r: Omit<RemoteRequest, 'nonce' | 'time'>,
): SignedRequest {
  const signed = signRequest(identity, user, r);
  doc.getMap<SignedRequest>(OPS_KEYS.requests).set(signed.nonce, signed);
  return signed;
}

export function resultOf(doc: Y.Doc, nonce: string): RequestResult | undefined {
  return doc.getMap<RequestResult>(OPS_KEYS.results).get(nonce);
}

/**
 * Guest: resolves with the host's final answer to a request (done, failed or refused); `onUpdate` sees the steps
 * before it (waiting for the host's yes, running). Rejects after `timeoutMs`.
 */
export function awaitResult(
  doc: Y.Doc,
  nonce: string,
  timeoutMs: number,
  onUpdate?: (r: RequestResult) => void,
): Promise<RequestResult> {
  const results = doc.getMap<RequestResult>(OPS_KEYS.results);
  return new Promise((resolve, reject) => {
    const check = () => {
      const r = results.get(nonce);
      if (!r) return;
      onUpdate?.(r);
      if (isFinal(r.state)) {
        finish();
        resolve(r);
      }
    };
    const timer = setTimeout(() => {
      finish();
      reject(new Error(`the host did not answer within ${Math.round(timeoutMs / 1000)} s`));
    }, timeoutMs);
    const finish = () => {
      clearTimeout(timer);
      results.unobserve(check);
    };
    results.observe(check);
    check();
  });
}

/** Guest: calls `fn` with each log chunk the host streams for a logs request (those already there first). */
export function followLogs(doc: Y.Doc, nonce: string, fn: (chunk: string) => void): () => void {
  const logs = doc.getMap<Y.Array<string>>(OPS_KEYS.logs);
  let array: Y.Array<string> | undefined;
  const onChunks = (e: Y.YArrayEvent<string>) => {
    for (const d of e.changes.delta) if (d.insert) for (const c of d.insert as string[]) fn(c);
  };
  const attach = () => {
    const a = logs.get(nonce);
    if (!a || a === array) return;
    array?.unobserve(onChunks);
    array = a;
    for (const c of a.toArray()) fn(c);
    a.observe(onChunks);
  };
  logs.observe(attach);
  attach();
  return () => {
    logs.unobserve(attach);
    array?.unobserve(onChunks);
  };
}

export function stopLogs(doc: Y.Doc, nonce: string): void {
  doc.getMap<boolean>(OPS_KEYS.logStops).set(nonce, true);
}

// ───────────────────────────── requests (host) ─────────────────────────────

/** Who asked, as the sync server reports the owner of the signing key. */
export interface Requester {
  userId: string;
  username: string;
  role: string;
}

export type Refusal =
  | 'malformed'
  | 'wrong-room'
  | 'replay'
  | 'stale'
  | 'bad-signature'
  | 'not-a-member'
  | 'viewer'
  | 'unknown-service'
  | 'declined';

export class RequestRefused extends Error {
  constructor(
    readonly code: Refusal,
    message: string,
    readonly by?: Requester,
  ) {
    super(message);
  }
}

const NONCE_SHAPE = /^[A-Za-z0-9_-]{16,64}$/;
const ACTING_ROLES = new Set(['member', 'admin', 'owner']);

/** Why `r` is not a well-formed request, or undefined. */
export function malformed(r: unknown): string | undefined {
  if (!r || typeof r !== 'object') return 'not an object';
  const q = r as Partial<SignedRequest>;
  if (!REMOTE_ACTIONS.includes(q.action as RemoteAction)) return `unknown action "${String(q.action).slice(0, 40)}"`;
  if (typeof q.service !== 'string' || !q.service || q.service.length > 300) return 'no service named';
  if (typeof q.nonce !== 'string' || !NONCE_SHAPE.test(q.nonce)) return 'a nonce of 16-64 base64url characters';
  if (typeof q.time !== 'number' || !Number.isFinite(q.time)) return 'no time';
  if (typeof q.room !== 'string' || typeof q.signer !== 'string' || typeof q.sig !== 'string') return 'unsigned';
  if (typeof q.user !== 'string' || q.user.length > 100) return 'no user';
  const args = q.args;
  if (!args || typeof args !== 'object' || Array.isArray(args)) return 'no args';
  const keys = Object.keys(args);
  if (keys.some((k) => k !== 'replicas' && k !== 'tail')) return `unknown argument ${keys.join(', ')}`;
  if (q.action === 'scale' && !(Number.isInteger(args.replicas) && args.replicas! >= 0 && args.replicas! <= 50))
    return 'scale needs replicas, a whole number from 0 to 50';
  if (args.tail !== undefined && !(Number.isInteger(args.tail) && args.tail >= 1 && args.tail <= 1000))
    return 'tail must be a whole number from 1 to 1000';
  return undefined;
}

export interface GuardOptions {
  roomId: string;
  /** The member whose device holds `signer` (raw Ed25519 public key), as the sync server lists the team. */
  lookup(signer: Buffer): Promise<Requester | undefined>;
  now?: () => number;
}

/**
 * Checks requests in order: shape, room, nonce not seen before, time within 60 s, the signature, then the signer's
 * member and role on the sync server. Each nonce is taken on first sight, so a replay is refused even when the first
 * copy was itself refused.
 */
export class RequestGuard {
  private readonly seen = new Set<string>();
  constructor(private readonly o: GuardOptions) {}

  /** Marks a nonce as used (one the room already holds an answer to, after a restart). */
  remember(nonce: string): void {
    this.seen.add(nonce);
  }

  async check(r: SignedRequest): Promise<Requester> {
    const bad = malformed(r);
    if (bad) throw new RequestRefused('malformed', `the request is malformed: ${bad}`);
    if (r.room !== this.o.roomId) throw new RequestRefused('wrong-room', `the request was signed for room ${r.room}`);
    if (this.seen.has(r.nonce)) throw new RequestRefused('replay', `nonce ${r.nonce} was used before: a replay`);
    this.seen.add(r.nonce);
    const now = (this.o.now ?? Date.now)();
    const age = now - r.time;
    if (Math.abs(age) > REQUEST_MAX_AGE_MS) {
      throw new RequestRefused(
        'stale',
        `the request is ${Math.round(Math.abs(age) / 1000)} s ${age > 0 ? 'old' : 'in the future'} ` +
          `(at most ${REQUEST_MAX_AGE_MS / 1000} s): check the clocks and ask again`,
      );
    }
    const signer = Buffer.from(r.signer, 'base64');
    if (signer.length !== 32 || !verifyBytes(signer, requestBytes(r), Buffer.from(r.sig, 'base64')))
      throw new RequestRefused('bad-signature', "the request's signature does not verify");
    const who = await this.o.lookup(signer);
    if (!who) {
      throw new RequestRefused(
        'not-a-member',
        'the signing device belongs to no member of the team on the sync server',
      );
    }
    if (!ACTING_ROLES.has(who.role)) {
      throw new RequestRefused(
        'viewer',
        `${who.username} is a ${who.role} in this team: viewers see the host's services but cannot act on them`,
        who,
      );
    }
    return who;
  }
}

export interface ActionOutcome {
  message: string;
  serviceState?: ServiceStatus['state'];
}

export interface RemoteActionHostOptions extends GuardOptions {
  /** The host's name for events. */
  host: string;
  /** Whether the service exists on the host (refused as unknown otherwise). */
  hasService(serviceId: string): boolean;
  /** The service's name for messages. */
  nameOf?(serviceId: string): string;
  /** Asks the host; false declines. */
  confirm(r: SignedRequest, who: Requester): Promise<boolean>;
  /** Runs the action as a local command would; `log` streams a logs request's lines; `stopped` is set when the guest stops them. */
  run(
    r: SignedRequest,
    who: Requester,
    io: { log(chunk: string): void; stopped: Promise<void> },
  ): Promise<ActionOutcome>;
  /** Each event also goes here (the host's own events list). */
  onEvent?(e: SharedEvent): void;
  onProblem?(message: string): void;
}

/** How an action reads in an event: "deploy web", "scale web to 3", "logs of web". */
export function describeAction(action: RemoteAction, service: string, args: RequestArgs = {}): string {
  if (action === 'scale') return `scale ${service} to ${args.replicas}`;
  if (action === 'logs') return `logs of ${service}`;
  return `${action} ${service}`;
}

/**
 * Host: answers the room's requests. Every request, accepted or refused, becomes a `remote_action` event naming who
 * asked; its answer goes to the results map under its nonce (a replay's answer is left as the first one was).
 */
export class RemoteActionHost {
  private readonly guard: RequestGuard;
  private readonly requests: Y.Map<SignedRequest>;
  private readonly results: Y.Map<RequestResult>;
  private readonly stops = new Map<string, () => void>();
  private readonly pending = new Set<Promise<void>>();
  private disposed = false;

  constructor(
    readonly doc: Y.Doc,
    private readonly o: RemoteActionHostOptions,
  ) {
    this.guard = new RequestGuard(o);
    this.requests = doc.getMap(OPS_KEYS.requests);
    this.results = doc.getMap(OPS_KEYS.results);
    for (const nonce of this.results.keys()) this.guard.remember(nonce);
    this.requests.observe(this.onRequests);
    doc.getMap<boolean>(OPS_KEYS.logStops).observe(this.onStops);
    // Requests written while no host was there: answered now (most will be stale).
    for (const [nonce, r] of this.requests.entries()) if (!this.results.has(nonce)) this.handle(r);
  }

  private readonly onRequests = (e: Y.YMapEvent<SignedRequest>) => {
    for (const key of e.keysChanged) {
      const r = this.requests.get(key);
      if (r) this.handle(r);
    }
  };

  private readonly onStops = (e: Y.YMapEvent<boolean>) => {
    for (const key of e.keysChanged) this.stops.get(key)?.();
  };

  /** Resolves when every request seen so far has its final answer. */
  async idle(): Promise<void> {
    while (this.pending.size) await Promise.all([...this.pending]);
  }

  private handle(r: SignedRequest): void {
    const p = this.process(r).catch((e) => this.o.onProblem?.(`a remote request failed: ${(e as Error).message}`));
    this.pending.add(p);
    void p.finally(() => this.pending.delete(p));
  }

  private answer(nonce: string, result: RequestResult): void {
    if (this.disposed || typeof nonce !== 'string' || !NONCE_SHAPE.test(nonce)) return;
    this.results.set(nonce, result);
  }

  private event(r: Partial<SignedRequest>, who: Requester | undefined, text: string): void {
    const e: SharedEvent = {
      id: `remote-${typeof r.nonce === 'string' ? r.nonce.slice(0, 64) : randomBytes(8).toString('hex')}-${Date.now()}`,
      at: new Date().toISOString(),
      type: 'remote_action',
      ...(typeof r.service === 'string' ? { serviceId: r.service.slice(0, 300) } : {}),
      message: text,
      ...(who ? { requestedBy: who.username } : {}),
    };
    if (this.disposed) return;
    publishEvent(this.doc, e);
    this.o.onEvent?.(e);
  }

  private async process(r: SignedRequest): Promise<void> {
    const name = (id: string) => this.o.nameOf?.(id) ?? id;
    const what = () =>
      REMOTE_ACTIONS.includes(r.action) && typeof r.service === 'string'
        ? describeAction(r.action, name(r.service), r.args ?? {})
        : 'an action';
    let who: Requester;
    try {
      who = await this.guard.check(r);
      if (!this.o.hasService(r.service)) {
        throw new RequestRefused('unknown-service', `${this.o.host} has no service ${r.service}`, who);
      }
      this.answer(r.nonce, { state: 'waiting', at: Date.now(), by: who.username, message: `asking ${this.o.host}` });
      let allowed: boolean;
      try {
        allowed = await this.o.confirm(r, who);
      } catch (e) {
        const why = (e as Error).message;
        throw new RequestRefused('declined', `${this.o.host} could not be asked (${why}), so nothing ran`, who);
      }
      if (!allowed) throw new RequestRefused('declined', `${this.o.host} declined ${what()}`, who);
    } catch (e) {
      if (!(e instanceof RequestRefused)) throw e;
      const asker = e.by?.username ?? (typeof r.user === 'string' ? `${r.user.slice(0, 100)} (unverified)` : 'someone');
      this.event(r, e.by, `${what()} requested by ${asker} (remote) refused: ${e.message}`);
      // A replay leaves the first answer as it was.
      if (e.code !== 'replay')
        this.answer(r.nonce, { state: 'refused', at: Date.now(), by: e.by?.username, message: e.message });
      return;
    }
    this.event(r, who, `${what()} requested by ${who.username} (remote)`);
    this.answer(r.nonce, { state: 'running', at: Date.now(), by: who.username });
    let stop!: () => void;
    const stopped = new Promise<void>((resolve) => (stop = resolve));
    this.stops.set(r.nonce, stop);
    if (this.doc.getMap(OPS_KEYS.logStops).get(r.nonce)) stop();
    const logs = this.doc.getMap<Y.Array<string>>(OPS_KEYS.logs);
    let chunks: Y.Array<string> | undefined;
    const log = (chunk: string) => {
      if (this.disposed) return;
      this.doc.transact(() => {
        if (!chunks) {
          chunks = new Y.Array<string>();
          logs.set(r.nonce, chunks);
        }
        chunks.push([chunk]);
        if (chunks.length > MAX_LOG_CHUNKS) chunks.delete(0, chunks.length - MAX_LOG_CHUNKS);
      });
    };
    const t0 = Date.now();
    try {
      const out = await this.o.run(r, who, { log, stopped });
      this.answer(r.nonce, {
        state: 'done',
        at: Date.now(),
        by: who.username,
        message: out.message,
        ...(out.serviceState ? { serviceState: out.serviceState } : {}),
      });
      this.event(r, who, `${what()} requested by ${who.username} (remote): ${out.message} in ${Date.now() - t0} ms`);
    } catch (e) {
      const message = (e as Error).message;
      this.answer(r.nonce, { state: 'failed', at: Date.now(), by: who.username, message });
      this.event(r, who, `${what()} requested by ${who.username} (remote) failed: ${message}`);
    } finally {
      this.stops.delete(r.nonce);
    }
  }

  dispose(): void {
    this.disposed = true;
    this.requests.unobserve(this.onRequests);
    this.doc.getMap<boolean>(OPS_KEYS.logStops).unobserve(this.onStops);
    for (const s of this.stops.values()) s();
    this.stops.clear();
  }
}
