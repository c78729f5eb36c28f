// Deno: dependencies installed into an image-local cache, then the task or entry file.
import type { ImageTemplate } from './dockerfile-parts';
import { cmd, expose, labels, USER } from './dockerfile-parts';

export const denoImage: ImageTemplate = {
  lines(service, { base }) {
    // The dependency cache lives in the image, owned by the run-time user, so nothing is fetched at start.
    return [
      `FROM ${base}`,
      labels(service, 'deno'),
      'WORKDIR /app',
      'ENV DENO_DIR=/app/.deno-cache',
      `COPY --chown=${USER} . .`,
      'RUN deno install',
      `USER ${USER}`,
      ...expose(service),
      cmd(service, ['deno', 'run', '-A', 'main.ts']),
    ];
  },
};
