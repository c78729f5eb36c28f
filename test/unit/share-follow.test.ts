// Follow a participant (extension/src/share/follow.ts): which of the followed participant's moves the window repeats,
// and which of the user's own moves end following. The same machine in a real VS Code: vscode-share-presence.test.ts.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FollowMachine } from '../../extension/src/share/follow';

const BOB = 7;

test('follows the participant: a new file opens it, a move in the same file only moves; repeats do nothing', () => {
  const m = new FollowMachine();
  assert.equal(m.remote(BOB, { file: 'a.ts', anchor: 1, head: 1 }), undefined, 'not following anyone yet');
  m.follow(BOB, 'bob');
  assert.deepEqual(m.remote(BOB, { file: 'a.ts', anchor: 1, head: 3 }), {
    kind: 'show',
    view: { file: 'a.ts', anchor: 1, head: 3 },
    openFile: true,
  });
  assert.equal(m.remote(BOB, { file: 'a.ts', anchor: 1, head: 3 }), undefined, 'the same view again');
  assert.equal(m.remote(8, { file: 'b.ts', anchor: 0, head: 0 }), undefined, 'someone else moved');
  const step = m.remote(BOB, { file: 'a.ts', anchor: 5, head: 5, visibleStart: 0, visibleEnd: 40 });
  assert.equal(step?.kind === 'show' && step.openFile, false);
  assert.equal(m.remote(BOB, undefined), undefined, 'bob is in no shared file: the window stays');
  const other = m.remote(BOB, { file: 'b.ts' });
  assert.equal(other?.kind === 'show' && other.openFile, true);
  assert.deepEqual(m.target, { clientId: BOB, name: 'bob' });
});

test('the selection following sets, the one an editor opens with, and room edits moving the cursor do not stop it', () => {
  const m = new FollowMachine();
  m.follow(BOB, 'bob');
  m.remote(BOB, { file: 'a.ts', anchor: 4, head: 9 });
  assert.equal(m.localEditor('a.ts'), undefined, 'the editor following opened');
  assert.equal(m.localSelection('command'), undefined, 'the selection following set (or the editor opened with)');
  assert.equal(m.localSelection('other'), undefined, 'a room edit shifted the cursor');
  assert.ok(m.target);
});

test('the user moving the cursor, typing, or switching editors stops following', () => {
  for (const [what, act] of [
    ['keyboard (arrows, typing)', (m: FollowMachine) => m.localSelection('keyboard')],
    ['mouse', (m: FollowMachine) => m.localSelection('mouse')],
    ['another editor (Go to Definition into another file, a tab)', (m: FollowMachine) => m.localEditor('b.ts')],
  ] as const) {
    const m = new FollowMachine();
    m.follow(BOB, 'bob');
    m.remote(BOB, { file: 'a.ts', anchor: 4, head: 9 });
    const step = act(m);
    assert.equal(step?.kind, 'stopped', what);
    assert.equal(m.target, undefined, what);
    assert.equal(m.remote(BOB, { file: 'c.ts', anchor: 0, head: 0 }), undefined, `${what}: bob's moves are ignored`);
  }
});

test('following stops when the participant leaves; Stop Following says whom it stopped', () => {
  const m = new FollowMachine();
  m.follow(BOB, 'bob');
  assert.deepEqual(m.remote(BOB, 'left'), { kind: 'stopped', reason: 'bob left the share', target: BOB });
  assert.equal(m.stop('again'), undefined, 'nothing to stop');
  m.follow(BOB, 'bob');
  assert.equal(m.localEditor('x.ts'), undefined, 'nothing shown yet: an editor switch is not a departure');
  assert.deepEqual(m.stop('Stop Following'), { kind: 'stopped', reason: 'Stop Following', target: BOB });
  // following someone else replaces the target
  m.follow(BOB, 'bob');
  m.follow(9, 'carol');
  assert.equal(m.remote(BOB, { file: 'a.ts' }), undefined);
  assert.equal(m.remote(9, { file: 'a.ts' })?.kind, 'show');
});
