// .NET: dotnet publish in the SDK image; the ASP.NET runtime image runs the published app.
import type { ImageTemplate } from './dockerfile-parts';
import { expose, USER } from './dockerfile-parts';

export const dotnetImage: ImageTemplate = {
  lines(service, { base, run }) {
    return [
      `FROM ${base} AS build`,
      'WORKDIR /src',
      'COPY . .',
      'RUN dotnet publish -c Release -o /out',
      '',
      `FROM ${run}`,
      'WORKDIR /app',
      'COPY --from=build /out .',
      `USER ${USER}`,
      ...expose(service),
      'CMD ["sh", "-c", "dotnet $(ls *.runtimeconfig.json | head -n 1 | sed s/.runtimeconfig.json/.dll/)"]',
    ];
  },
};
