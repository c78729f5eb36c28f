// Accounts, API tokens (login with its throttle, logout) and the caller's own devices: /v1/accounts, /v1/tokens, /v1/me.
import express from 'express';
import { dummyPasswordHash, hashPassword, needsRehash, newId, newToken, tokenHash, verifyPassword } from '../auth';
import { addressKey } from '../client-address';
import { LoginThrottle } from '../login-throttle';
import type { User } from '../store/store';
import type { ApiContext } from './api-context';
import { ApiError, keyJson, parse, schemas, wrap } from './api-request';

export function accountRoutes({ store, relay, cfg, log, auth }: ApiContext): express.Router {
  const router = express.Router();
  const logins = new LoginThrottle(cfg.loginFreeFailuresPerAccount, cfg.loginFreeFailuresPerAddress);

  router.post(
    '/v1/accounts',
    wrap(async (req, res) => {
      const b = parse(schemas.account, req.body, 'account');
      if (await store.userByName(b.username)) throw new ApiError(409, 'conflict', `username ${b.username} is taken`);
      const user: User = {
        id: newId('usr'),
        username: b.username,
        passwordHash: await hashPassword(b.password),
        createdAt: Date.now(),
      };
      await store.createUser(user);
      log.info({ user: user.id }, 'account created');
      res.status(201).json({ id: user.id, username: user.username });
    }),
  );

  router.post(
    '/v1/tokens',
    wrap(async (req, res) => {
      const b = parse(schemas.token, req.body, 'token request');
      const address = addressKey(req.socket.remoteAddress);
      const tooMany = (wait: { ms: number; by: string }) => {
        const seconds = Math.ceil(wait.ms / 1000);
        res.set('Retry-After', String(seconds));
        const whose = wait.by === 'account' ? 'for this account' : 'from your address';
        const message = `too many failed logins ${whose}: wait ${seconds} s before trying again`;
        return new ApiError(429, 'too-many-attempts', message);
      };
      const waiting = logins.waitFor(b.username, address);
      if (waiting) throw tooMany(waiting);
      const user = await store.userByName(b.username);
      // An unknown account is checked against a dummy hash: its answer takes as long as a wrong password's.
      const ok = await verifyPassword(b.password, user?.passwordHash ?? (await dummyPasswordHash()));
      if (!user || !ok) {
        const wait = logins.failed(b.username, address);
        if (wait) throw tooMany(wait);
        throw new ApiError(401, 'unauthorized', 'wrong username or password');
      }
      logins.succeeded(b.username);
      if (needsRehash(user.passwordHash)) await store.setPasswordHash(user.id, await hashPassword(b.password));
      const token = newToken();
      const expiresAt = Date.now() + cfg.tokenTtlDays * 86400_000;
      await store.addToken(tokenHash(token), user.id, b.name ?? 'default', expiresAt);
      res.status(201).json({ token, userId: user.id, expiresAt });
    }),
  );

  router.delete(
    '/v1/tokens/current',
    auth,
    wrap(async (req, res) => {
      const hash = tokenHash(req.token);
      await store.deleteToken(hash);
      const closed = relay().tokenRevoked(hash);
      log.info({ user: req.user.id, socketsClosed: closed }, 'token revoked');
      res.status(204).end();
    }),
  );

  router.get(
    '/v1/me',
    auth,
    wrap(async (req, res) => {
      const keys = await store.deviceKeysOf(req.user.id);
      res.json({
        id: req.user.id,
        username: req.user.username,
        keys: keys.map(keyJson),
        teams: await store.teamsOf(req.user.id),
      });
    }),
  );

  router.put(
    '/v1/me/keys',
    auth,
    wrap(async (req, res) => {
      const b = parse(schemas.key, req.body, 'device key');
      const signPublicKey = Buffer.from(b.signPublicKey, 'base64');
      const existing = await store.deviceKey(signPublicKey);
      if (existing && existing.userId !== req.user.id)
        throw new ApiError(409, 'conflict', 'this signing key is registered to another account');
      if (!existing)
        await store.addDeviceKey({
          signPublicKey,
          dhPublicKey: Buffer.from(b.dhPublicKey, 'base64'),
          userId: req.user.id,
          createdAt: Date.now(),
        });
      res.status(existing ? 200 : 201).json(keyJson((await store.deviceKey(signPublicKey))!));
    }),
  );
  return router;
}
