// Ruby: the locked bundle without development and test groups (bundler's deployment mode), built with the compiler
// native gems need in a build stage; Rails precompiles its assets there. The run stage gets the bundle and the app
// and runs detection's command (Rails: its server, which is puma) on the detected port.
import type { ImageTemplate } from './dockerfile-parts';
import { cmd, expose, healthcheck, labels, USER, userBuild } from './dockerfile-parts';

const BUNDLE_ENV = 'ENV BUNDLE_DEPLOYMENT=1 BUNDLE_WITHOUT=development:test BUNDLE_PATH=/usr/local/bundle';
// Rails 7.1 reads SECRET_KEY_BASE_DUMMY; older versions need any SECRET_KEY_BASE to boot for the task.
const PRECOMPILE =
  'RUN if bundle exec rails -T 2>/dev/null | grep -q "assets:precompile"; then ' +
  'SECRET_KEY_BASE_DUMMY=1 SECRET_KEY_BASE=assets-precompile-only bundle exec rails assets:precompile; fi';

const RAILS_RUN_ENV = ' RAILS_ENV=production RAILS_LOG_TO_STDOUT=1 RAILS_SERVE_STATIC_FILES=1';

function probe(url: string): string[] {
  const check = `exit Net::HTTP.get_response(URI(${JSON.stringify(url)})).is_a?(Net::HTTPSuccess)`;
  return ['ruby', '-rnet/http', '-e', check];
}

export const rubyImage: ImageTemplate = {
  ignores: ['.bundle', 'vendor/bundle', 'log', 'tmp', 'coverage', 'node_modules'],
  lines(service, { base }) {
    const port = service.ports[0]?.container;
    const rails = service.frameworks.includes('rails');
    const own = userBuild(service);
    return [
      `FROM ${base} AS build`,
      'RUN apt-get update && apt-get install -y --no-install-recommends build-essential git pkg-config ' +
        '&& rm -rf /var/lib/apt/lists/*',
      'WORKDIR /app',
      BUNDLE_ENV,
      ...(rails ? ['ENV RAILS_ENV=production'] : []),
      'COPY Gemfile Gemfile.lock* ./',
      'RUN bundle install --jobs 4 && rm -rf /usr/local/bundle/cache',
      'COPY . .',
      ...(own ? [`RUN ${own}`] : rails ? [PRECOMPILE] : []),
      '',
      `FROM ${base}`,
      labels(service, 'ruby'),
      'WORKDIR /app',
      BUNDLE_ENV,
      `ENV HOME=/tmp RACK_ENV=production${rails ? RAILS_RUN_ENV : ''}`,
      'COPY --from=build /usr/local/bundle /usr/local/bundle',
      `COPY --from=build --chown=${USER} /app /app`,
      `USER ${USER}`,
      ...expose(service),
      ...healthcheck(service, probe),
      cmd(service, ['bundle', 'exec', 'rackup', '-o', '0.0.0.0', '-p', String(port ?? 3000)]),
    ];
  },
};
