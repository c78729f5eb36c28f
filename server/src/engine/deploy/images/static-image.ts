// A static site: the files served by busybox httpd.
import type { ImageTemplate } from './dockerfile-parts';
import { expose, labels, USER } from './dockerfile-parts';

export const staticImage: ImageTemplate = {
  lines(service, { base }) {
    const p = service.ports[0]?.container ?? 8080;
    return [
      `FROM ${base}`,
      labels(service, 'static'),
      `COPY --chown=${USER} . /www`,
      `USER ${USER}`,
      ...expose(service),
      `CMD ["httpd", "-f", "-v", "-p", "${p}", "-h", "/www"]`,
    ];
  },
};
