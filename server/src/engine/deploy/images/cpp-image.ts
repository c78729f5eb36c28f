// C/C++: CMake, Meson or make in a build stage; the program the detector named, alone in the run stage.
import type { ImageTemplate } from './dockerfile-parts';
import { expose, labels, has, USER } from './dockerfile-parts';

export const cppImage: ImageTemplate = {
  lines(service, { base, run }) {
    const cmake = 'cmake -S . -B build -DCMAKE_BUILD_TYPE=Release && cmake --build build -j"$(nproc)"';
    const meson = 'meson setup builddir --buildtype=release && meson compile -C builddir';
    let build = 'make';
    if (has(service, 'CMakeLists.txt')) build = cmake;
    else if (has(service, 'meson.build')) build = meson;
    // The detector names the program the build writes (./build/<target>, ./builddir/<target>, ./<target>).
    const program = /^\.\/[\w./-]+$/.test(service.start?.command ?? '') ? service.start!.command : './app';
    return [
      `FROM ${base} AS build`,
      'RUN apt-get update && apt-get install -y --no-install-recommends build-essential cmake meson ninja-build' +
        ' pkg-config && rm -rf /var/lib/apt/lists/*',
      'WORKDIR /src',
      'COPY . .',
      `RUN ${build}`,
      `RUN mkdir -p /out && cp ${program} /out/app`,
      '',
      `FROM ${run}`,
      labels(service, 'cpp'),
      'COPY --from=build /out/app /usr/local/bin/app',
      `USER ${USER}`,
      ...expose(service),
      'CMD ["/usr/local/bin/app"]',
    ];
  },
};
