// PHP: Composer installs the locked production dependencies (and an optimised autoloader) in a build stage; the run
// stage serves the app with PHP's own server on the detected port, from the document root detection found.
import type { ImageTemplate } from './dockerfile-parts';
import { cmd, expose, has, healthcheck, labels, USER, userBuild } from './dockerfile-parts';

// Composer unpacks dist archives with unzip (the official PHP images have neither it nor the zip extension); both are
// fetched only when the base image lacks them, so a base image that carries them builds without those downloads.
const COMPOSER = [
  'RUN command -v unzip >/dev/null || { apt-get update && apt-get install -y --no-install-recommends unzip ' +
    '&& rm -rf /var/lib/apt/lists/*; }',
  'RUN command -v composer >/dev/null || { ' +
    "php -r \"copy('https://getcomposer.org/installer', '/tmp/composer-setup.php');\" " +
    '&& php /tmp/composer-setup.php --quiet --install-dir=/usr/local/bin --filename=composer; }',
  'ENV COMPOSER_ALLOW_SUPERUSER=1 COMPOSER_NO_INTERACTION=1',
  'COPY composer.json composer.lock* ./',
  'RUN composer install --no-dev --no-scripts --no-autoloader --prefer-dist --no-progress',
  'COPY . .',
  'RUN composer dump-autoload --optimize --classmap-authoritative --no-dev',
];

function probe(url: string): string[] {
  return ['php', '-r', `exit(@file_get_contents(${JSON.stringify(url)}) === false ? 1 : 0);`];
}

export const phpImage: ImageTemplate = {
  ignores: ['vendor'],
  lines(service, { base }) {
    const port = service.ports[0]?.container;
    const own = userBuild(service);
    return [
      `FROM ${base} AS build`,
      'WORKDIR /app',
      ...(has(service, 'composer.json') ? COMPOSER : ['COPY . .']),
      ...(own ? [`RUN ${own}`] : []),
      '',
      `FROM ${base}`,
      labels(service, 'php'),
      'WORKDIR /app',
      'ENV HOME=/tmp',
      `COPY --from=build --chown=${USER} /app /app`,
      `USER ${USER}`,
      ...expose(service),
      ...healthcheck(service, probe),
      cmd(service, ['php', '-S', `0.0.0.0:${port ?? 8080}`, '-t', '/app']),
    ];
  },
};
