// Gleam: an Erlang shipment, run on an Erlang image.
import type { ImageTemplate } from './dockerfile-parts';
import { expose, labels, USER } from './dockerfile-parts';

export const gleamImage: ImageTemplate = {
  lines(service, { base, run }) {
    return [
      `FROM ${base} AS build`,
      'WORKDIR /src',
      'COPY . .',
      'RUN gleam export erlang-shipment',
      '',
      `FROM ${run}`,
      labels(service, 'gleam'),
      'COPY --from=build /src/build/erlang-shipment /app',
      `USER ${USER}`,
      ...expose(service),
      'CMD ["/app/entrypoint.sh", "run"]',
    ];
  },
};
