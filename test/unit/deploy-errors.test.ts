import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BuildError, ImageUnavailableError, EngineUnreachableError } from '../../server/src/engine/deploy/index';

test('a build failing on its FROM step says the base image is missing and how to choose another', () => {
  const e = new BuildError(
    'api',
    'Step 1/11 : FROM node:20-slim',
    [],
    'pull access denied for node, repository does not exist',
  );
  assert.match(e.message, /^build of api failed at Step 1\/11 : FROM node:20-slim: pull access denied/);
  assert.match(e.message, /--base-image <runtime>=<image>/);
  const other = new BuildError('api', 'Step 3/5 : RUN make', ['x'], 'returned a non-zero code: 2');
  assert.ok(!other.message.includes('--base-image'));
  // A Dockerfile of the user's own: settings do not choose its base image, its FROM line does.
  const own = new BuildError(
    'gateway',
    'Step 1/5 : FROM nginx:1.27-alpine',
    [],
    'dial tcp: lookup registry-1.docker.io: no such host',
    'gateway/Dockerfile',
  );
  assert.match(own.message, /change the FROM line of gateway\/Dockerfile/);
  assert.ok(!own.message.includes('--base-image'));
});

test('missing images and unreachable engines carry what failed and what to do', () => {
  const img = new ImageUnavailableError('postgres:16', 'no such host');
  assert.match(
    img.message,
    /image postgres:16 is not present locally and could not be pulled: no such host\. Build or load it/,
  );
  const eng = new EngineUnreachableError('unix:///var/run/docker.sock', 'ENOENT');
  assert.equal(eng.exitCode, 69);
  assert.match(eng.message, /Cannot reach the Docker engine at unix:\/\/\/var\/run\/docker\.sock \(ENOENT\)/);
  assert.match(eng.message, /DOCKER_HOST/);
});
