// The extension manifest's security declarations, read from package.json as VS Code reads them: which settings a
// repository's .vscode/settings.json may set, and what the extension does in a workspace the user has not trusted.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

const repoRoot = new URL('../..', import.meta.url).pathname;
const manifest = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as {
  contributes: { configuration: { properties: Record<string, { scope?: string }> } };
  capabilities?: {
    untrustedWorkspaces?: { supported: boolean | 'limited'; description?: string; restrictedConfigurations?: string[] };
  };
};
const settings = manifest.contributes.configuration.properties;

test('settings that pick the Docker engine or deploy by themselves cannot come from a workspace', () => {
  // `machine`: user or remote settings only; VS Code drops a workspace or folder value with a warning.
  assert.equal(settings['kyozo.docker.host']?.scope, 'machine');
  assert.equal(settings['kyozo.autoDeploy']?.scope, 'machine');
  // The sync server a user's Kyozo Share token and password go to: a repository must not pick it.
  assert.equal(settings['kyozo.sync.server']?.scope, 'machine');
  // Whether a guest's request to act on this machine's services asks the host first: a shared repository must not
  // turn the question off.
  assert.equal(settings['kyozo.share.confirmRemoteActions']?.scope, 'machine');
  // The rest only shape what a trusted workspace deploys (which its own Dockerfiles and kyozo.yaml decide anyway) or
  // what is shown; each is listed here so a new setting gets the same decision.
  const windowScoped = [
    'kyozo.baseImages',
    'kyozo.build.builder',
    'kyozo.defaults.memoryMb',
    'kyozo.defaults.cpus',
    'kyozo.ignore',
    'kyozo.servicesView.groupBy',
    'kyozo.deploy.parallelism',
    // Which environment the editor deploys to and shows, and the registry pushes go to (pushing needs trust, and
    // Docker sends a registry only the credentials the user stored for it).
    'kyozo.environment',
    'kyozo.registry',
    // The gateway image a trusted workspace's scaled services run behind (restricted, like the base images).
    'kyozo.images.gateway',
    // A debug trace of shared editing, to the output channel only.
    'kyozo.share.traceEdits',
  ];
  assert.deepEqual(
    Object.keys(settings).sort(),
    [
      ...windowScoped,
      'kyozo.autoDeploy',
      'kyozo.docker.host',
      'kyozo.sync.server',
      'kyozo.share.confirmRemoteActions',
    ].sort(),
  );
  for (const key of windowScoped) assert.equal(settings[key].scope ?? 'window', 'window', key);
});

test('untrusted workspaces get limited support: no workspace values for what deploys, a description saying what is off', () => {
  const u = manifest.capabilities?.untrustedWorkspaces;
  assert.ok(u, 'capabilities.untrustedWorkspaces is declared');
  assert.equal(u.supported, 'limited');
  assert.match(u.description ?? '', /Restricted Mode/);
  assert.match(u.description ?? '', /does not deploy, start, stop, scale or stream logs/);
  assert.deepEqual([...(u.restrictedConfigurations ?? [])].sort(), [
    'kyozo.autoDeploy',
    'kyozo.baseImages',
    'kyozo.defaults.cpus',
    'kyozo.defaults.memoryMb',
    'kyozo.docker.host',
    'kyozo.images.gateway',
    'kyozo.registry',
  ]);
});
