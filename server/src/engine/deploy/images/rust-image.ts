// Rust: a release build in the toolchain image, the binary alone in the run image.
import type { ImageTemplate } from './dockerfile-parts';
import { expose, USER } from './dockerfile-parts';

export const rustImage: ImageTemplate = {
  lines(service, { base, run }) {
    return [
      `FROM ${base} AS build`,
      'WORKDIR /src',
      'COPY . .',
      'RUN cargo build --release && mkdir -p /out && cp "$(find target/release -maxdepth 1 -type f -perm -u+x | head -n 1)" /out/app',
      '',
      `FROM ${run}`,
      'COPY --from=build /out/app /usr/local/bin/app',
      `USER ${USER}`,
      ...expose(service),
      'CMD ["/usr/local/bin/app"]',
    ];
  },
};
