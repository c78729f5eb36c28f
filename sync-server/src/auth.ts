// Passwords, API tokens and invites.
//
// Passwords: node:crypto scrypt (N=2^15, r=8, p=1, 64-byte key, 16-byte salt). scrypt is memory-hard like argon2id,
// ships with Node (no native addon to build or audit), and runs off the event loop through the async API.
// Tokens: 32 random bytes shown once; only their SHA-256 is stored, so a leaked database cannot authenticate.
// Invites: 16 random bytes of id (128 bits) plus team, role and expiry, signed with HMAC-SHA256 under a server
// secret kept in the database; single use.
import { createHash, createHmac, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import type { Role } from './store/store';

const SCRYPT = { N: 1 << 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 };

function scryptAsync(password: string, salt: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => scrypt(password, salt, 64, SCRYPT, (err, key) => (err ? reject(err) : resolve(key))));
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scryptAsync(password, salt);
  return `scrypt$${SCRYPT.N}$${SCRYPT.r}$${SCRYPT.p}$${salt.toString('base64')}$${key.toString('base64')}`;
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, , , , salt, key] = stored.split('$');
  if (scheme !== 'scrypt' || !salt || !key) return false;
  const expected = Buffer.from(key, 'base64');
  const actual = await scryptAsync(password, Buffer.from(salt, 'base64'));
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

export function newToken(): string {
  return `kyz_${randomBytes(32).toString('base64url')}`;
}

export function tokenHash(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export interface InvitePayload { id: string; team: string; role: Role; exp: number }

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
