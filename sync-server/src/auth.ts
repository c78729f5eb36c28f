// Passwords, API tokens and invites.
//
// Passwords: node:crypto scrypt (N=2^17, r=8, p=1, 64-byte key, 16-byte salt). scrypt is memory-hard like argon2id,
// ships with Node (no native addon to build or audit), and runs off the event loop through the async API. Each hash
// takes 128 MiB (128 * N * r) for about half a second, so at most two run at once and a few dozen may wait: a burst of
// logins queues instead of taking gigabytes. A hash stores its own parameters; a weaker one verifies with them and is
// replaced at the next login (needsRehash).
// Tokens: 32 random bytes shown once; only their SHA-256 is stored, so a leaked database cannot authenticate.
// Invites: 16 random bytes of id (128 bits) plus team, role and expiry, signed with HMAC-SHA256 under a server
// secret kept in the database; single use.
import { createHash, createHmac, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import type { Role } from './store/store';

const SCRYPT = { N: 1 << 17, r: 8, p: 1 };
const MAX_CONCURRENT_HASHES = 2;
const MAX_WAITING_HASHES = 64;

interface ScryptParams {
  N: number;
  r: number;
  p: number;
}

/** Thrown when too many password checks already wait: the caller answers 503 and the client retries later. */
export class HashingBusyError extends Error {}

let running = 0;
const waiting: (() => void)[] = [];

async function acquireHashSlot(): Promise<void> {
  if (running < MAX_CONCURRENT_HASHES) {
    running++;
    return;
  }
  if (waiting.length >= MAX_WAITING_HASHES) throw new HashingBusyError('too many password checks in progress');
  await new Promise<void>((resolve) => waiting.push(resolve)); // the slot is handed over: `running` stays
}

function releaseHashSlot(): void {
  const next = waiting.shift();
  if (next) next();
  else running--;
}

async function scryptAsync(password: string, salt: Buffer, params: ScryptParams): Promise<Buffer> {
  await acquireHashSlot();
  try {
    // maxmem must exceed 128 * N * r, the memory scrypt needs, or node refuses the parameters.
    const opts = { ...params, maxmem: 2 * 128 * params.N * params.r };
    return await new Promise((resolve, reject) => {
      scrypt(password, salt, 64, opts, (err, key) => (err ? reject(err) : resolve(key)));
    });
  } finally {
    releaseHashSlot();
  }
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scryptAsync(password, salt, SCRYPT);
  return `scrypt$${SCRYPT.N}$${SCRYPT.r}$${SCRYPT.p}$${salt.toString('base64')}$${key.toString('base64')}`;
}

/** The parameters of a stored hash, if they are ones this server will run (a bad row cannot ask for 64 GiB). */
function paramsOf(stored: string): (ScryptParams & { salt: Buffer; key: Buffer }) | null {
  const [scheme, n, r, p, salt, key] = stored.split('$');
  const params = { N: Number(n), r: Number(r), p: Number(p) };
  const within = (n: number, min: number, max: number) => Number.isInteger(n) && n >= min && n <= max;
  if (scheme !== 'scrypt' || !salt || !key || !within(Math.log2(params.N), 14, 20)) return null;
  if (!within(params.r, 1, 16) || !within(params.p, 1, 4)) return null;
  return { ...params, salt: Buffer.from(salt, 'base64'), key: Buffer.from(key, 'base64') };
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const h = paramsOf(stored);
  if (!h) return false;
  const actual = await scryptAsync(password, h.salt, h);
  return actual.length === h.key.length && timingSafeEqual(actual, h.key);
}

/** Whether a stored hash is weaker than what hashPassword makes now. */
export function needsRehash(stored: string): boolean {
  const h = paramsOf(stored);
  return !h || h.N < SCRYPT.N || h.r < SCRYPT.r || h.p < SCRYPT.p;
}

let dummy: Promise<string> | null = null;
/**
 * A hash of a random password with today's parameters: a login for an unknown account is checked against it, so it
 * takes as long as a wrong password for a known one and the answer time does not tell which accounts exist. Made at
 * the first such login (which takes twice as long, once), not at start: a server nobody probes never spends 128 MiB.
 */
export function dummyPasswordHash(): Promise<string> {
  dummy ??= hashPassword(randomBytes(16).toString('base64'));
  return dummy;
}

export function newToken(): string {
  return `kyz_${randomBytes(32).toString('base64url')}`;
}

export function tokenHash(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** Compares two secrets in constant time whatever their lengths (both are hashed first). */
export function sameSecret(a: string, b: string): boolean {
  return timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());
}

export interface InvitePayload {
  id: string;
  team: string;
  role: Role;
  exp: number;
}

export function signInvite(secret: Buffer, payload: InvitePayload): string {
  const body = Buffer.from(JSON.stringify(payload)).toString('base64url');
  const mac = createHmac('sha256', secret).update(body).digest('base64url');
  return `${body}.${mac}`;
}

/** Returns the payload if the signature is valid; expiry and single use are checked by the caller. */
export function verifyInvite(secret: Buffer, invite: string): InvitePayload | null {
  const [body, mac] = invite.split('.');
  if (!body || !mac) return null;
  const expected = createHmac('sha256', secret).update(body).digest();
  const actual = Buffer.from(mac, 'base64url');
  if (actual.length !== expected.length || !timingSafeEqual(actual, expected)) return null;
  try {
    return JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as InvitePayload;
  } catch {
    return null;
  }
}

export function newId(prefix: string): string {
  return `${prefix}_${randomBytes(12).toString('base64url')}`;
}
