// PHP: the sources served by PHP's own server on the detected port.
import type { ImageTemplate } from './dockerfile-parts';
import { cmd, expose, USER } from './dockerfile-parts';

export const phpImage: ImageTemplate = {
  lines(service, { base }) {
    const port = service.ports[0]?.container;
    return [
      `FROM ${base}`,
      'WORKDIR /app',
      `COPY --chown=${USER} . .`,
      `USER ${USER}`,
      ...expose(service),
      cmd(service, ['php', '-S', `0.0.0.0:${port ?? 8080}`, '-t', '/app']),
    ];
  },
};
