// Java: the project's own build (its Maven or Gradle wrapper when committed, else the build tool of the base image)
// in the JDK image; a JRE image runs the program the way detection says it starts, with a heap sized to the
// container's memory limit: a runnable jar with `java -jar`, the Gradle `application` plugin's start script from
// installDist, or a Maven main class from its compiled classes and copied dependencies.
import type { Service } from '../../../protocol';
import type { CacheDir, ImageTemplate } from './dockerfile-parts';
import { expose, labels, programCmd, run as runStep, USER, userBuild } from './dockerfile-parts';

/** Maven's local repository and Gradle's caches and wrapper distributions (their settings files stay visible). */
const MAVEN_CACHES: CacheDir[] = [{ id: 'kyozo-maven', target: '/root/.m2/repository', sharing: 'locked' }];
const GRADLE_CACHES: CacheDir[] = [
  { id: 'kyozo-gradle-caches', target: '/root/.gradle/caches', sharing: 'locked' },
  { id: 'kyozo-gradle-wrapper', target: '/root/.gradle/wrapper', sharing: 'locked' },
];

const HEAP = '-XX:MaxRAMPercentage=75';
const GRADLE_CMD = 'if [ -f gradlew ]; then gradle="sh ./gradlew"; else gradle=gradle; fi; ';
const MAVEN_CMD = 'if [ -f mvnw ]; then mvn="sh ./mvnw"; else mvn=mvn; fi; ';

// A wrapper committed without its executable bit still runs through sh. Spring Boot's bootJar is the runnable jar
// when the plugin is applied; otherwise the plain build's jar.
const GRADLE =
  GRADLE_CMD +
  '$gradle --no-daemon -x test bootJar || $gradle --no-daemon -x test build; ' +
  'mkdir -p /out && cp "$(ls build/libs/*.jar | grep -v -e \'-plain\\.jar$\' | head -n 1)" /out/app.jar';
// The shade plugin leaves the unshaded jar as original-*.jar beside the runnable one.
const MAVEN =
  MAVEN_CMD +
  '$mvn -B -q -DskipTests package && mkdir -p /out && ' +
  "cp \"$(ls target/*.jar | grep -v -e '/original-' -e '-sources\\.jar$' -e '-javadoc\\.jar$' | head -n 1)\" " +
  '/out/app.jar';

/** How the image starts the program, read from the start command detection reports. */
type Launch =
  | { kind: 'jar' }
  /** Gradle `application`: installDist's build/install/<name>, run by its bin/<name> script. */
  | { kind: 'install'; name: string }
  /** Maven by main class: target/classes and the dependencies copied into target/dependency. */
  | { kind: 'classpath'; classpath: string; main: string };

export function javaLaunch(service: Service): Launch {
  const command = service.start?.source === 'kyozo.yaml' || userBuild(service) ? '' : (service.start?.command ?? '');
  const install = /^build\/install\/([\w.-]+)\/bin\/\1$/.exec(command);
  if (install && service.build?.packageManager === 'gradle') return { kind: 'install', name: install[1]! };
  const byClass = /^java -cp '(target\/classes:target\/dependency\/\*)' ([\w.$]+)$/.exec(command);
  if (byClass && service.build?.packageManager !== 'gradle')
    return { kind: 'classpath', classpath: byClass[1]!, main: byClass[2]! };
  return { kind: 'jar' };
}

export const javaImage: ImageTemplate = {
  ignores: ['.gradle', '/build', '.idea', '*.iml'],
  lines(service, { base, run }, features) {
    const launch = javaLaunch(service);
    const caches = service.build?.packageManager === 'gradle' ? GRADLE_CACHES : MAVEN_CACHES;
    const head = (workdir: string, build: string) => [
      `FROM ${base} AS build`,
      `WORKDIR ${workdir}`,
      'COPY . .',
      runStep(build, caches, features),
    ];
    const runStage = [`FROM ${run}`, labels(service, 'java'), 'WORKDIR /app'];
    if (launch.kind === 'install') {
      // Without settings.gradle, Gradle names the project after its folder: the build runs in a folder named as
      // detection named it, so installDist writes build/install/<name>/bin/<name>.
      const dir = `/src/${launch.name}`;
      const install = `build/install/${launch.name}`;
      return [
        ...head(dir, `${GRADLE_CMD}$gradle --no-daemon -x test installDist`),
        '',
        ...runStage,
        `COPY --from=build ${dir}/${install} /app/${install}`,
        // The start script passes JAVA_OPTS to the JVM.
        `ENV JAVA_OPTS=${HEAP}`,
        `USER ${USER}`,
        ...expose(service),
        programCmd(service, [`${install}/bin/${launch.name}`]),
      ];
    }
    if (launch.kind === 'classpath') {
      return [
        ...head(
          '/src',
          `${MAVEN_CMD}$mvn -B -q -DskipTests package dependency:copy-dependencies -DincludeScope=runtime && ` +
            'mkdir -p target/dependency',
        ),
        '',
        ...runStage,
        'COPY --from=build /src/target/classes /app/target/classes',
        'COPY --from=build /src/target/dependency /app/target/dependency',
        `USER ${USER}`,
        ...expose(service),
        programCmd(service, ['java', HEAP, '-cp', launch.classpath, launch.main]),
      ];
    }
    const build = userBuild(service) ?? (service.build?.packageManager === 'gradle' ? GRADLE : MAVEN);
    return [
      ...head('/src', build),
      '',
      ...runStage,
      'COPY --from=build /out/app.jar /app/app.jar',
      `USER ${USER}`,
      ...expose(service),
      programCmd(service, ['java', HEAP, '-jar', '/app/app.jar']),
    ];
  },
};
