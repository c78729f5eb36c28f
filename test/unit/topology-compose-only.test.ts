// A service only a compose file declares says so in a field (`composeOnly`), which the service lookups read, rather
// than every reader parsing `#` out of its id.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { analyze } from '../../server/src/engine';
import { ServiceIndex } from '../../server/src/engine/deploy';

test("compose-only services carry their compose file and name; a folder's own service does not", async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'kyozo-compose-only-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  mkdirSync(join(root, 'api'));
  writeFileSync(join(root, 'api/Dockerfile'), 'FROM node:20-alpine\nEXPOSE 3000\nCMD ["node", "server.js"]\n');
  writeFileSync(
    join(root, 'compose.yaml'),
    [
      'services:',
      '  api:',
      '    build: ./api',
      '  worker:', // a second service built from a folder that already has one
      '    build: ./api',
      '    command: node worker.js',
      '  db:',
      '    image: postgres:16',
      '',
    ].join('\n'),
  );
  const topology = await analyze(root);
  const byId = new Map(topology.services.map((s) => [s.id, s]));
  assert.deepEqual([...byId.keys()].sort(), ['api', 'compose.yaml#db', 'compose.yaml#worker']);
  assert.equal(byId.get('api')!.composeOnly, undefined);
  assert.deepEqual(byId.get('compose.yaml#db')!.composeOnly, { file: 'compose.yaml', name: 'db' });
  assert.deepEqual(byId.get('compose.yaml#worker')!.composeOnly, { file: 'compose.yaml', name: 'worker' });
  assert.equal(byId.get('compose.yaml#worker')!.build?.context, 'api');
  // The root folder holds the compose file and its image services, but none of them is the root's service.
  const index = ServiceIndex.of(topology);
  assert.equal(index.atFolder('api')?.id, 'api');
  assert.equal(index.atFolder('.'), undefined);
});
