// Elixir: a mix release built with MIX_ENV=prod, run on a slim Debian with the libraries the BEAM needs.
import type { ImageTemplate } from './dockerfile-parts';
import { expose, USER } from './dockerfile-parts';

export const elixirImage: ImageTemplate = {
  lines(service, { base, run }) {
    return [
      `FROM ${base} AS build`, 'ENV MIX_ENV=prod', 'WORKDIR /src',
      'RUN mix local.hex --force && mix local.rebar --force',
      'COPY . .', 'RUN mix deps.get --only prod && mix release --path /out', '',
      `FROM ${run}`,
      'RUN apt-get update && apt-get install -y --no-install-recommends libstdc++6 openssl libncurses6' +
        ' ca-certificates && rm -rf /var/lib/apt/lists/*',
      // A Phoenix release starts its endpoint only when told to.
      'ENV LANG=C.UTF-8 PHX_SERVER=true HOME=/tmp', 'COPY --from=build /out /app', `USER ${USER}`, ...expose(service),
      'CMD ["sh", "-c", "exec /app/bin/$(ls /app/bin | grep -v \'\\.bat$\' | head -n 1) start"]',
    ];
  },
};
