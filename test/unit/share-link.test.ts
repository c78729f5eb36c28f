// Share links (vscode://kyozo.kyozo/share?server=...&room=...) and kyozo-share: paths, as the guest reads them.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  parseShareLink,
  parseShareQuery,
  shareLink,
  splitSharePath,
  websocketUrl,
} from '../../extension/src/share/share-link';

test('a share link names the server and the room, and reads back', () => {
  const link = shareLink('kyozo.kyozo', 'http://127.0.0.1:4000/', 'r0om_ID-1');
  assert.equal(link, 'vscode://kyozo.kyozo/share?server=http%3A%2F%2F127.0.0.1%3A4000&room=r0om_ID-1');
  assert.deepEqual(parseShareLink(link), { server: 'http://127.0.0.1:4000', roomId: 'r0om_ID-1' });
  assert.deepEqual(parseShareQuery('server=https://sync.example.com&room=abc'), {
    server: 'https://sync.example.com',
    roomId: 'abc',
  });
});

test('a bad share link is refused with what to do', () => {
  assert.throws(() => parseShareLink(''), /no link given: paste the share link/);
  assert.throws(() => parseShareLink('not a link'), /not a share link/);
  assert.throws(() => parseShareLink('vscode://kyozo.kyozo/join?server=x&invite=y'), /its path is not \/share/);
  assert.throws(() => parseShareQuery('server=https://s.example.com'), /needs both server= and room=/);
  assert.throws(() => parseShareQuery('server=https://s.example.com&room=../x'), /is not a room id/);
  assert.throws(() => parseShareQuery('server=http://sync.example.com&room=a'), /use https:\/\//);
});

test('the WebSocket address of a server', () => {
  assert.equal(websocketUrl('http://127.0.0.1:4000'), 'ws://127.0.0.1:4000');
  assert.equal(websocketUrl('https://sync.example.com/base/'), 'wss://sync.example.com/base');
});

test('a kyozo-share: path splits into room and normalised path', () => {
  assert.deepEqual(splitSharePath('/room1/'), { roomId: 'room1', path: '' });
  assert.deepEqual(splitSharePath('/room1'), { roomId: 'room1', path: '' });
  assert.deepEqual(splitSharePath('/room1/src/a.ts'), { roomId: 'room1', path: 'src/a.ts' });
  assert.throws(() => splitSharePath('/room1/../etc/passwd'), /leaves the workspace folder/);
  assert.throws(() => splitSharePath(''), /not a kyozo-share path/);
});
