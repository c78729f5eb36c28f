// Java: the project's own build (its Maven or Gradle wrapper when committed, else the build tool of the base image)
// packages a runnable jar in the JDK image; a JRE image runs it with a heap sized to the container's memory limit.
import type { ImageTemplate } from './dockerfile-parts';
import { expose, labels, programCmd, USER, userBuild } from './dockerfile-parts';

// A wrapper committed without its executable bit still runs through sh. Spring Boot's bootJar is the runnable jar
// when the plugin is applied; otherwise the plain build's jar.
const GRADLE =
  'if [ -f gradlew ]; then gradle="sh ./gradlew"; else gradle=gradle; fi; ' +
  '$gradle --no-daemon -x test bootJar || $gradle --no-daemon -x test build; ' +
  'mkdir -p /out && cp "$(ls build/libs/*.jar | grep -v -e \'-plain\\.jar$\' | head -n 1)" /out/app.jar';
// The shade plugin leaves the unshaded jar as original-*.jar beside the runnable one.
const MAVEN =
  'if [ -f mvnw ]; then mvn="sh ./mvnw"; else mvn=mvn; fi; ' +
  '$mvn -B -q -DskipTests package && mkdir -p /out && ' +
  "cp \"$(ls target/*.jar | grep -v -e '/original-' -e '-sources\\.jar$' -e '-javadoc\\.jar$' | head -n 1)\" " +
  '/out/app.jar';

export const javaImage: ImageTemplate = {
  ignores: ['.gradle', '/build', '.idea', '*.iml'],
  lines(service, { base, run }) {
    const build = userBuild(service) ?? (service.build?.packageManager === 'gradle' ? GRADLE : MAVEN);
    return [
      `FROM ${base} AS build`,
      'WORKDIR /src',
      'COPY . .',
      `RUN ${build}`,
      '',
      `FROM ${run}`,
      labels(service, 'java'),
      'WORKDIR /app',
      'COPY --from=build /out/app.jar /app/app.jar',
      `USER ${USER}`,
      ...expose(service),
      programCmd(service, ['java', '-XX:MaxRAMPercentage=75', '-jar', '/app/app.jar']),
    ];
  },
};
