// Presence in a shared workspace (extension/src/share/presence.ts) on real Yjs documents and real y-protocols
// awareness: cursors as relative positions that move with concurrent edits, what an editor draws from a room's
// awareness, who a participant is (the roster's word, not the peer's), colours from fingerprints, idle after 60 s.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyAwarenessUpdate, Awareness, encodeAwarenessUpdate } from 'y-protocols/awareness';
import * as Y from 'yjs';
import {
  ActivityClock,
  colorOf,
  cursorsIn,
  decodeSelections,
  encodeRange,
  encodeSelections,
  participantsOf,
  readPresence,
  textColorOn,
  type ParticipantSources,
  type RosterIdentity,
} from '../../extension/src/share/presence';
import { WorkspaceDoc } from '../../extension/src/share/workspace-doc';

/** Two workspace documents joined by their updates, and their awareness joined the same way. */
function room() {
  const da = new Y.Doc();
  const db = new Y.Doc();
  da.on('update', (u: Uint8Array, o: unknown) => o !== 'wire' && Y.applyUpdate(db, u, 'wire'));
  db.on('update', (u: Uint8Array, o: unknown) => o !== 'wire' && Y.applyUpdate(da, u, 'wire'));
  const aa = new Awareness(da);
  const ab = new Awareness(db);
  const relay = (from: Awareness, to: Awareness) =>
    from.on('update', ({ added, updated, removed }: Record<string, number[]>, o: unknown) => {
      if (o === 'wire') return;
      applyAwarenessUpdate(to, encodeAwarenessUpdate(from, [...added, ...updated, ...removed]), 'wire');
    });
  relay(aa, ab);
  relay(ab, aa);
  const a = new WorkspaceDoc(da);
  a.initLayout();
  a.createFile('src/app.ts', { text: 'const a = 1;\nconst b = 2;\n' });
  a.createFile('README.md', { text: '# readme\n' });
  return { a, b: new WorkspaceDoc(db), aa, ab, close: () => (aa.destroy(), ab.destroy()) };
}

const FP_ALICE = '1111 2222 3333 4444 5555 6666 7777 8888 9999 aaaa bbbb cccc dddd eeee ffff 0000';
const FP_BOB = 'abcd ef01 2345 6789 abcd ef01 2345 6789 abcd ef01 2345 6789 abcd ef01 2345 6789';

function sources(self: number, roster: Map<number, RosterIdentity>, now = Date.now()): ParticipantSources {
  return {
    self,
    own: { username: 'alice', role: 'owner', fingerprint: FP_ALICE },
    ownerOf: (id) => (roster.has(id) ? `key-${id}` : undefined),
    lookup: (key) => roster.get(Number(key.slice(4))),
    activity: new ActivityClock(),
    now,
  };
}

test('a cursor sent as a relative position stays beside its character while both sides edit before it', () => {
  const r = room();
  const tb = r.b.textOf('src/app.ts')!;
  // bob selects "b = 2" (offsets 19..24) and puts it in his awareness
  const start = tb.toString().indexOf('b = 2');
  r.ab.setLocalState({
    user: { name: 'bob' },
    role: 'guest',
    file: 'src/app.ts',
    selections: encodeSelections(tb, [{ anchor: start, head: start + 5 }]),
  });
  const ta = r.a.textOf('src/app.ts')!;
  const seen = () => decodeSelections(ta, readPresence(r.aa.getStates().get(r.ab.clientID))!.selections);
  assert.deepEqual(seen(), [{ anchor: start, head: start + 5 }]);
  // alice inserts a line at the top, bob deletes "const " on his line: the selection still covers "b = 2"
  ta.insert(0, '// header\n');
  tb.delete(tb.toString().indexOf('const b'), 'const '.length);
  const [s] = seen();
  assert.equal(ta.toString().slice(s.anchor, s.head), 'b = 2');
  assert.equal(ta.toString(), '// header\nconst a = 1;\nb = 2;\n');
  r.close();
});

test('what an editor draws: the other participants in this file, selections ordered, caret at the head', () => {
  const r = room();
  const ta = r.a.textOf('src/app.ts')!;
  const tb = r.b.textOf('src/app.ts')!;
  r.aa.setLocalState({
    user: { name: 'alice' },
    role: 'host',
    file: 'src/app.ts',
    selections: encodeSelections(ta, [{ anchor: 2, head: 2 }]),
  });
  // bob's selection runs backwards (head before anchor), and he has a second cursor
  r.ab.setLocalState({
    user: { name: 'bob', fingerprint: 'claimed' },
    role: 'guest',
    file: 'src/app.ts',
    selections: encodeSelections(tb, [
      { anchor: 10, head: 6 },
      { anchor: 20, head: 20 },
    ]),
  });
  const roster = new Map([[r.ab.clientID, { username: 'bob', role: 'member', fingerprint: FP_BOB }]]);
  const ps = participantsOf(r.aa.getStates(), sources(r.aa.clientID, roster));
  assert.deepEqual(
    ps.map((p) => [p.name, p.self, p.role, p.teamRole, p.fingerprint]),
    [
      ['alice', true, 'host', 'owner', FP_ALICE],
      ['bob', false, 'guest', 'member', FP_BOB],
    ],
  );
  const drawn = cursorsIn('src/app.ts', ta, ps);
  assert.equal(drawn.length, 1, 'this window does not draw its own cursor');
  assert.equal(drawn[0].name, 'bob');
  assert.equal(drawn[0].color, colorOf(FP_BOB), 'the colour comes from the roster fingerprint, not the claimed one');
  assert.deepEqual(drawn[0].selections, [
    { start: 6, end: 10, head: 6 },
    { start: 20, end: 20, head: 20 },
  ]);
  assert.match(drawn[0].hover, /^bob · guest, member · device abcd ef01/);
  assert.deepEqual(cursorsIn('README.md', r.a.textOf('README.md')!, ps), [], 'nobody is in README.md');
  // a position on another file's text does not resolve in this one
  r.ab.setLocalStateField('file', 'README.md');
  const moved = participantsOf(r.aa.getStates(), sources(r.aa.clientID, roster));
  assert.deepEqual(cursorsIn('README.md', r.a.textOf('README.md')!, moved), []);
  r.close();
});

test('a peer that calls itself someone else is shown under its roster name; one outside the roster as unverified', () => {
  const r = room();
  r.ab.setLocalState({ user: { name: 'mallory-says-carol' }, role: 'host' });
  const named = participantsOf(
    r.aa.getStates(),
    sources(r.aa.clientID, new Map([[r.ab.clientID, { username: 'mallory', role: 'viewer', fingerprint: FP_BOB }]])),
  ).find((p) => !p.self)!;
  assert.equal(named.name, 'mallory');
  assert.equal(named.claimedName, 'mallory-says-carol');
  assert.equal(named.verified, true);
  const unknown = participantsOf(r.aa.getStates(), sources(r.aa.clientID, new Map())).find((p) => !p.self);
  assert.equal(unknown?.verified, false);
  assert.equal(unknown?.name, 'mallory-says-carol');
  r.close();
});

test('peer states of the wrong shape are dropped field by field, never used', () => {
  assert.equal(readPresence(null), undefined);
  assert.equal(readPresence({ user: {} }), undefined);
  const p = readPresence({
    user: { name: 'x'.repeat(500), color: 'red; background: url(x)' },
    role: 'admin',
    file: '../../etc/passwd',
    selections: [null, 3, { anchor: {}, head: 'x' }, { anchor: { item: null }, head: { item: null } }],
    visible: { start: 1, end: 2 },
    lastActive: 'soon',
  })!;
  assert.equal(p.user.name.length, 100);
  assert.equal(p.user.color, undefined);
  assert.equal(p.role, 'guest');
  assert.equal(p.file, undefined);
  assert.equal(p.selections!.length, 1);
  assert.equal(p.visible, undefined);
  assert.equal(p.lastActive, undefined);
  // a malformed relative position resolves to nothing rather than throwing
  const doc = new Y.Doc();
  const t = doc.getText('t');
  t.insert(0, 'abc');
  assert.deepEqual(decodeSelections(t, [{ anchor: { type: 'x', item: { client: 'a' } }, head: { tname: 5 } }]), []);
});

test('visible ranges round-trip, and positions past the end are clamped', () => {
  const doc = new Y.Doc();
  const t = doc.getText('t');
  t.insert(0, 'line 1\nline 2\nline 3\n');
  const v = encodeRange(t, 7, 14);
  assert.deepEqual(decodeSelections(t, [{ anchor: v.start, head: v.end }]), [{ anchor: 7, head: 14 }]);
  const [far] = encodeSelections(t, [{ anchor: 1000, head: -5 }]);
  assert.deepEqual(decodeSelections(t, [far]), [{ anchor: t.length, head: 0 }]);
});

test('colours: the same fingerprint always gives the same colour; different devices mostly differ', () => {
  assert.equal(colorOf(FP_BOB), colorOf(FP_BOB));
  assert.equal(colorOf(FP_BOB), colorOf(FP_BOB.replace(/ /g, '').toUpperCase()), 'spacing and case do not count');
  assert.match(colorOf(FP_ALICE), /^#[0-9a-f]{6}$/);
  const colors = new Set<string>();
  for (let i = 0; i < 40; i++) colors.add(colorOf(`${i.toString(16).padStart(4, '0')} ${FP_ALICE.slice(5)}`));
  assert.ok(colors.size >= 25, `40 devices got ${colors.size} colours`);
  for (const c of colors) assert.match(c, /^#[0-9a-f]{6}$/);
  assert.equal(textColorOn('#ffff00'), '#000000');
  assert.equal(textColorOn('#1a237e'), '#ffffff');
});

test('idle after 60 s without a move on this clock; a move makes a participant active again', () => {
  const clock = new ActivityClock();
  const t0 = 1_000_000;
  clock.note(1, t0, t0);
  assert.equal(clock.idle(1, t0 + 59_000), false);
  // renewals of the same state (the awareness does one every 15 s) are not activity
  clock.note(1, t0, t0 + 30_000);
  assert.equal(clock.idle(1, t0 + 60_000), true);
  clock.note(1, t0 + 61_000, t0 + 61_000);
  assert.equal(clock.idle(1, t0 + 62_000), false);
  // a peer's clock 10 minutes ahead does not make it look active for 10 minutes
  clock.note(2, t0 + 600_000, t0);
  assert.equal(clock.idle(2, t0 + 60_000), true);
  // a peer first seen after 2 minutes without activity (its clock) is idle at once
  clock.note(3, t0 - 120_000, t0);
  assert.equal(clock.idle(3, t0), true);
  clock.retain(new Set([1]));
  assert.equal(clock.idle(3, t0 + 1e9), false, 'forgotten once gone');
});

test('participants: idle comes from the activity clock, and a participant who leaves is forgotten', () => {
  const r = room();
  const now = Date.now();
  r.ab.setLocalState({ user: { name: 'bob' }, role: 'guest', lastActive: now - 120_000 });
  const src = sources(r.aa.clientID, new Map());
  src.now = now;
  assert.equal(participantsOf(r.aa.getStates(), src).find((p) => !p.self)?.idle, true);
  r.ab.setLocalStateField('lastActive', now + 5);
  src.now = now + 10;
  assert.equal(participantsOf(r.aa.getStates(), src).find((p) => !p.self)?.idle, false);
  r.ab.setLocalState(null);
  assert.deepEqual(
    participantsOf(r.aa.getStates(), src).map((p) => p.name),
    [],
    'alice has no local state in this test',
  );
  r.close();
});
