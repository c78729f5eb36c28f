// What every route shares: the error a client can branch on, body validation with zod, and the authenticated request.
import type { NextFunction, Request, Response } from 'express';
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { User } from '../store/store';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

const b64key = (bytes: number) =>
  z.string().refine(
    (s) => {
      try {
        return Buffer.from(s, 'base64').length === bytes && /^[A-Za-z0-9+/=_-]+$/.test(s);
      } catch {
        return false;
      }
    },
    { message: `must be ${bytes} bytes, base64` },
  );
const role = z.enum(['owner', 'admin', 'member', 'viewer']);
export const schemas = {
  account: z.object({
    username: z.string().regex(/^[a-z0-9][a-z0-9._-]{1,38}$/, 'lowercase letters, digits, . _ -, 2-39 characters'),
    password: z.string().min(10, 'at least 10 characters').max(200),
  }),
  token: z.object({
    username: z.string().min(1).max(64),
    password: z.string().min(1).max(200),
    name: z.string().max(64).optional(),
  }),
  key: z.object({ signPublicKey: b64key(32), dhPublicKey: b64key(32) }),
  team: z.object({ name: z.string().trim().min(1).max(100) }),
  invite: z.object({
    role: role.exclude(['owner']).default('member'),
    ttlSeconds: z
      .number()
      .int()
      .min(60)
      .max(30 * 86400)
      .default(7 * 86400),
  }),
  accept: z.object({ invite: z.string().min(10).max(2000) }),
  memberRole: z.object({ role }),
  room: z.object({ name: z.string().trim().min(1).max(100) }),
  keys: z.object({
    epoch: z.number().int().min(1),
    wraps: z
      .array(z.object({ recipient: b64key(32), wrapped: z.string().min(1).max(2048) }))
      .min(1)
      .max(10_000),
  }),
  // A signed roster of at most 1 MiB (base64: 4/3 of that); the server stores it and never parses it.
  roster: z.object({
    version: z
      .number()
      .int()
      .min(1)
      .max(2 ** 53 - 1),
    roster: z.string().min(1).max(1_398_104),
  }),
};

export function parse<T>(schema: z.ZodType<T>, body: unknown, what: string): T {
  const r = schema.safeParse(body ?? {});
  if (!r.success) {
    throw new ApiError(
      400,
      'invalid-input',
      `invalid ${what}: ${r.error.issues.map((i) => `${i.path.join('.') || 'body'} ${i.message}`).join('; ')}`,
      r.error.issues,
    );
  }
  return r.data;
}

export type Authed = Request & { user: User; token: string };
export const wrap =
  (fn: (req: Authed, res: Response) => Promise<unknown>) => (req: Request, res: Response, next: NextFunction) => {
    fn(req as Authed, res).catch(next);
  };

/** Answers with the device key as JSON, its fingerprint included. */
export function keyJson(k: { signPublicKey: Buffer; dhPublicKey: Buffer; createdAt: number }) {
  return {
    signPublicKey: k.signPublicKey.toString('base64'),
    dhPublicKey: k.dhPublicKey.toString('base64'),
    fingerprint: fingerprint(k.signPublicKey, k.dhPublicKey),
    createdAt: k.createdAt,
  };
}

/** The out-of-band comparable fingerprint of a device: SHA-256 over both public keys, 16 groups of 4 hex digits. */
export function fingerprint(signPublicKey: Buffer, dhPublicKey: Buffer): string {
  // Kept identical to client/identity.ts so a fingerprint shown by the server can be compared with the client's own.
  const hex = createHash('sha256').update(signPublicKey).update(dhPublicKey).digest('hex');
  return hex.match(/.{4}/g)!.join(' ');
}
