// Kyozo Share's invites as people pass them: join links and bare invites made by a real sync server, parsed back;
// cut, altered, expired and foreign ones refused with a sentence saying what to do; and the server's refusals of bad
// invites (used twice, signature altered) worded for the user with a next step.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import {
  InviteError,
  joinLink,
  normalizeServerUrl,
  parseInvite,
  parseJoinQuery,
} from '../../extension/src/share/join-uri';
import { describeShareError, describeTrustWarning } from '../../extension/src/share/share-errors';
import { SyncApi } from '../../sync-server/src/client';
import { createUser, startTestServer, type TestServer } from '../support/sync-harness';

let server: TestServer;
let invite: string;
let teamId: string;
before(async () => {
  server = await startTestServer();
  const owner = await createUser(server);
  teamId = (await owner.api.createTeam('team')).id;
  invite = (await owner.api.invite(teamId, 'viewer')).invite;
});
after(() => server.stop());

const refused = (fn: () => unknown, pattern: RegExp) =>
  assert.throws(fn, (e: unknown) => e instanceof InviteError && pattern.test((e as Error).message));

describe('join links', () => {
  it('round-trip a real invite with its server, team, role and expiry', () => {
    const link = joinLink('kyozo.kyozo', `${server.url}/`, invite);
    assert.match(link, /^vscode:\/\/kyozo\.kyozo\/join\?server=http%3A%2F%2F127\.0\.0\.1%3A\d+&invite=/);
    const parsed = parseInvite(link);
    assert.equal(parsed.invite, invite);
    assert.equal(parsed.server, server.url);
    assert.equal(parsed.teamId, teamId);
    assert.equal(parsed.role, 'viewer');
    assert.ok(parsed.expiresAt! > Date.now() + 6 * 86400_000, 'a week by default');
    assert.deepEqual(parseJoinQuery(new URL(link).search.slice(1)), parsed, 'what a UriHandler receives');
  });

  it('take a bare invite, with spaces around it', () => {
    const parsed = parseInvite(`  ${invite}\n`);
    assert.equal(parsed.invite, invite);
    assert.equal(parsed.server, undefined);
    assert.equal(parsed.role, 'viewer');
  });

  it('refuse cut, altered, empty, foreign and expired invites with what to do', () => {
    refused(() => parseInvite(''), /paste the invite or the join link/);
    refused(() => parseInvite(invite.slice(0, 30)), /not a Kyozo invite .* cut short/);
    refused(() => parseInvite(invite.replace('.', '')), /not a Kyozo invite/);
    refused(() => parseInvite(`!!${invite}`), /not a Kyozo invite/);
    refused(() => parseInvite('vscode://kyozo.kyozo/join?server=http%3A%2F%2F127.0.0.1%3A1'), /has no invite/);
    refused(() => parseInvite(`vscode://kyozo.kyozo/other?invite=${invite}`), /not a Kyozo join link/);
    refused(() => parseInvite('bm90IGpzb24.AAAAAAAAAAAAAAAAAAAAAAAA'), /does not decode/);
    const body = Buffer.from(JSON.stringify({ id: 'x', team: 't', role: 'member', exp: Date.UTC(2020, 0, 2) }));
    const expired = `${body.toString('base64url')}.${'A'.repeat(43)}`;
    refused(() => parseInvite(expired), /expired on 2020-01-02 00:00 UTC: ask an admin of the team for a new one/);
  });

  it('refuse a link that would send the token in the clear to another machine', () => {
    const q = (server: string) => `server=${encodeURIComponent(server)}&invite=${invite}`;
    refused(() => parseJoinQuery(q('http://sync.example.com')), /use https:\/\//);
    refused(() => parseJoinQuery(q('ftp://sync.example.com')), /must start with https/);
    refused(() => parseJoinQuery(q('https://me:pw@sync.example.com')), /must not carry a user/);
    assert.equal(parseJoinQuery(q('https://sync.example.com/kyozo/')).server, 'https://sync.example.com/kyozo');
    assert.equal(normalizeServerUrl(' http://localhost:8080/ '), 'http://localhost:8080');
    refused(() => normalizeServerUrl('sync.example.com'), /not a server address/);
  });
});

describe('server errors, as the user reads them', () => {
  const failure = (p: Promise<unknown>) =>
    p.then(
      () => assert.fail('expected a refusal'),
      (e: unknown) => e,
    );

  it('an invite used twice, or altered, asks for a new one', async () => {
    const a = await createUser(server);
    const b = await createUser(server);
    await a.api.acceptInvite(invite);
    const twice = await failure(b.api.acceptInvite(invite));
    assert.equal(
      describeShareError(twice, 'join the team', server.url),
      'Kyozo Share: cannot join the team: the invite was already used. Ask an admin of the team for a new invite.',
    );
    const [body, mac] = invite.split('.');
    const forged = `${body}.${mac.slice(0, -2)}${mac.endsWith('AA') ? 'BB' : 'AA'}`;
    const bad = await failure(b.api.acceptInvite(forged));
    assert.match(describeShareError(bad, 'join the team'), /the invite signature does not verify\. Ask an admin/);
  });

  it('a wrong password, repeated sign-ins (429) and an unreachable server say what to do', async () => {
    const u = await createUser(server);
    const api = new SyncApi(server.url);
    const wrong = await failure(api.login(u.name, 'not the password at all'));
    assert.match(describeShareError(wrong, 'sign in', server.url), /wrong username or password .*Create Account/);
    let throttled: unknown;
    for (let i = 0; i < 12 && !throttled; i++) {
      const e = await failure(api.login(u.name, 'still not the password'));
      if ((e as { status?: number }).status === 429) throttled = e;
    }
    assert.ok(throttled, 'the server throttles repeated failures');
    assert.match(describeShareError(throttled, 'sign in', server.url), /wait \d+ s before trying again/);
    const closed = createServer().listen(0, '127.0.0.1');
    await once(closed, 'listening');
    const dead = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`;
    await new Promise((r) => closed.close(r));
    const gone = await failure(new SyncApi(dead).login('x', 'y'));
    assert.match(
      describeShareError(gone, 'sign in', dead),
      /cannot be reached \(ECONNREFUSED\)\. Check the setting kyozo\.sync\.server/,
    );
    const expired = await failure(new SyncApi(server.url, 'kyz_revoked').me());
    assert.match(
      describeShareError(expired, 'list teams'),
      /no longer accepts your session\. Run "Kyozo Share: Sign In"/,
    );
  });

  it('a refused key wrap names the device that signed it', () => {
    const text = describeTrustWarning(
      { kind: 'wrap-refused', message: 'm', reason: 'signer is not an admin', fingerprint: 'ab12 '.repeat(16).trim() },
      'mallory',
    );
    assert.match(text, /refused a room key signed by device ab12 .* ab12 \(mallory\): signer is not an admin/);
  });
});
