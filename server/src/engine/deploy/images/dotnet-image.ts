// .NET: `dotnet publish` of the project detection found (Release) in the SDK image; the ASP.NET runtime image runs
// the published assembly, listening on the detected port.
import type { Service } from '../../../protocol';
import type { ImageTemplate } from './dockerfile-parts';
import { expose, inFolder, labels, programCmd, USER, userBuild } from './dockerfile-parts';

function projectFile(service: Service): string | undefined {
  const file = service.indicators.find((i) => /\.(cs|fs|vb)proj$/.test(i));
  return file ? inFolder(service, file) : undefined;
}

/** The published entry assembly: the one a runtimeconfig.json sits beside (its name may differ from the project's). */
const ASSEMBLY = 'ls *.runtimeconfig.json | head -n 1 | sed s/.runtimeconfig.json$/.dll/';

export const dotnetImage: ImageTemplate = {
  ignores: ['bin', 'obj', '.vs'],
  lines(service, { base, run }) {
    const project = projectFile(service);
    const target = project ? ` ${JSON.stringify(project)}` : '';
    const port = service.ports[0]?.container;
    return [
      `FROM ${base} AS build`,
      'WORKDIR /src',
      'ENV DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1',
      'COPY . .',
      `RUN ${userBuild(service) ?? `dotnet publish${target} -c Release -o /out`}`,
      '',
      `FROM ${run}`,
      labels(service, 'dotnet'),
      'WORKDIR /app',
      ...(port ? [`ENV ASPNETCORE_URLS=http://0.0.0.0:${port}`] : []),
      'COPY --from=build /out .',
      `USER ${USER}`,
      ...expose(service),
      programCmd(service, ['sh', '-c', `exec dotnet "$(${ASSEMBLY})"`]),
    ];
  },
};
