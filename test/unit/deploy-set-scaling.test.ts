// "Kyozo: Set Autoscaling…": the kyozo.yaml `scaling` block is set or removed in place (comments and other keys
// kept), bad bounds are refused with what is wrong, and the server command writes the service's own kyozo.yaml on
// disk (over a real JSON-RPC connection to the built language server), after which the analysis carries the scaling.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { withScaling, ScalingManifestError } from '../../server/src/engine/deploy/scaling-manifest';
import { Methods, ServerCommands, scalingProblem, type TopologyParams } from '../../server/src/protocol';
import { startSession, type LspSession } from './lsp-harness';

describe('kyozo.yaml scaling block', () => {
  test('set in place: comments, order and other keys stay', () => {
    const text = '# the api\nname: api # short\nport: 3000\nreplicas: 2\n';
    const out = withScaling(text, { min: 1, max: 5, targetCpu: 70, cooldownSeconds: 45 });
    assert.equal(
      out,
      '# the api\nname: api # short\nport: 3000\nreplicas: 2\nscaling:\n  min: 1\n  max: 5\n  target_cpu: 70\n  cooldown: 45s\n',
    );
    const changed = withScaling(out, { min: 2, max: 3, targetCpu: 60 });
    assert.match(changed, /scaling:\n {2}min: 2\n {2}max: 3\n {2}target_cpu: 60\n$/);
    assert.match(changed, /^# the api\nname: api # short\n/);
  });

  test('removed with null; a folder without kyozo.yaml gets one', () => {
    assert.equal(withScaling('name: api\nscaling:\n  max: 3\nport: 1\n', null), 'name: api\nport: 1\n');
    assert.equal(
      withScaling(undefined, { min: 1, max: 2, targetCpu: 70 }),
      'scaling:\n  min: 1\n  max: 2\n  target_cpu: 70\n',
    );
  });

  test('bad bounds and unreadable files are refused with what is wrong', () => {
    assert.match(scalingProblem({ min: 3, max: 2, targetCpu: 70 }) ?? '', /min \(3\) must not be above max \(2\)/);
    assert.match(scalingProblem({ min: 1, max: 99, targetCpu: 70 }) ?? '', /max must be a whole number from 1 to 50/);
    assert.match(scalingProblem({ min: 1, max: 2, targetCpu: 0 }) ?? '', /target CPU/);
    assert.equal(scalingProblem({ min: 1, max: 2, targetCpu: 70, cooldownSeconds: 0 }), undefined);
    assert.throws(() => withScaling('name: [unclosed\n', { min: 1, max: 2, targetCpu: 70 }), ScalingManifestError);
    assert.throws(() => withScaling('- a list\n', { min: 1, max: 2, targetCpu: 70 }), /not a mapping/);
  });
});

describe('Set Autoscaling through the language server', () => {
  let s: LspSession;
  before(async () => {
    s = await startSession('kyozo-overrides');
  });
  after(() => s.close());

  test('writes the service folder kyozo.yaml and the next analysis carries the scaling', async () => {
    const next = s.next<TopologyParams>(Methods.topology, (p) =>
      p.topology.services.some((x) => x.id === 'api' && x.scaling?.max === 4),
    );
    const r = await s.connection.sendRequest<{ uri: string }>('workspace/executeCommand', {
      command: ServerCommands.setScaling,
      arguments: [s.folderUri, 'api', { min: 2, max: 4, targetCpu: 65, cooldownSeconds: 20 }],
    });
    assert.equal(r.uri, s.uri('api/kyozo.yaml'));
    const text = readFileSync(join(s.folder, 'api', 'kyozo.yaml'), 'utf8');
    assert.match(text, /^# Kyozo service manifest/);
    assert.match(text, /scaling:\n {2}min: 2\n {2}max: 4\n {2}target_cpu: 65\n {2}cooldown: 20s\n/);
    const t = await next;
    assert.deepEqual(t.topology.services.find((x) => x.id === 'api')?.scaling, {
      min: 2,
      max: 4,
      targetCpu: 65,
      cooldownSeconds: 20,
    });
  });

  test('null removes it; bad bounds are refused and nothing is written', async () => {
    await s.connection.sendRequest('workspace/executeCommand', {
      command: ServerCommands.setScaling,
      arguments: [s.folderUri, 'api', null],
    });
    assert.doesNotMatch(readFileSync(join(s.folder, 'api', 'kyozo.yaml'), 'utf8'), /scaling/);
    await assert.rejects(
      s.connection.sendRequest('workspace/executeCommand', {
        command: ServerCommands.setScaling,
        arguments: [s.folderUri, 'api', { min: 5, max: 2, targetCpu: 70 }],
      }),
      /Set Autoscaling: storefront-api: min \(5\) must not be above max \(2\)/,
    );
    assert.doesNotMatch(readFileSync(join(s.folder, 'api', 'kyozo.yaml'), 'utf8'), /scaling/);
  });
});
