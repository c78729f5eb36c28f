// Go: a static binary built in the toolchain image, run alone on the smallest base.
import type { ImageTemplate } from './dockerfile-parts';
import { expose, USER } from './dockerfile-parts';

export const goImage: ImageTemplate = {
  lines(service, { base, run }) {
    return [
      `FROM ${base} AS build`,
      'WORKDIR /src',
      'COPY go.* ./',
      'RUN go mod download',
      'COPY . .',
      'RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/app .',
      '',
      `FROM ${run}`,
      'COPY --from=build /out/app /app',
      `USER ${USER}`,
      ...expose(service),
      'CMD ["/app"]',
    ];
  },
};
