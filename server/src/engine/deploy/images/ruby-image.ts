// Ruby: the bundle without development and test groups, then the app under rackup.
import type { ImageTemplate } from './dockerfile-parts';
import { cmd, expose, USER } from './dockerfile-parts';

export const rubyImage: ImageTemplate = {
  lines(service, { base }) {
    const port = service.ports[0]?.container;
    return [
      `FROM ${base}`,
      'WORKDIR /app',
      'ENV HOME=/tmp BUNDLE_WITHOUT=development:test',
      'COPY Gemfile* ./',
      'RUN bundle install',
      `COPY --chown=${USER} . .`,
      `USER ${USER}`,
      ...expose(service),
      cmd(service, ['bundle', 'exec', 'rackup', '-o', '0.0.0.0', '-p', String(port ?? 3000)]),
    ];
  },
};
