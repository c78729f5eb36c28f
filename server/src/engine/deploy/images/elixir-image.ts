// Elixir: a mix release (MIX_ENV=prod) from mix.lock, Phoenix assets deployed when the project has them, run on a
// slim Debian with the libraries the BEAM needs.
import type { ImageTemplate } from './dockerfile-parts';
import { expose, labels, programCmd, USER, userBuild } from './dockerfile-parts';

export const elixirImage: ImageTemplate = {
  ignores: ['_build', 'deps', '.elixir_ls'],
  lines(service, { base, run }) {
    const own = userBuild(service);
    return [
      `FROM ${base} AS build`,
      'ENV MIX_ENV=prod',
      'WORKDIR /src',
      'RUN mix local.hex --force && mix local.rebar --force',
      // Dependencies are their own layers, reused while mix.exs and mix.lock are unchanged.
      'COPY mix.exs mix.lock* ./',
      'RUN mix deps.get --only prod',
      // Compiled after the sources are in, since config/ decides how dependencies compile.
      'COPY . .',
      own
        ? `RUN ${own}`
        : 'RUN mix deps.compile && if mix help assets.deploy >/dev/null 2>&1; then mix assets.deploy; fi ' +
          '&& mix release --path /out',
      '',
      `FROM ${run}`,
      labels(service, 'elixir'),
      'RUN apt-get update && apt-get install -y --no-install-recommends libstdc++6 openssl libncurses6' +
        ' ca-certificates && rm -rf /var/lib/apt/lists/*',
      // A Phoenix release starts its endpoint only when told to.
      'ENV LANG=C.UTF-8 PHX_SERVER=true HOME=/tmp',
      'COPY --from=build /out /app',
      `USER ${USER}`,
      ...expose(service),
      programCmd(service, ['sh', '-c', "exec /app/bin/$(ls /app/bin | grep -v '\\.bat$' | head -n 1) start"]),
    ];
  },
};
