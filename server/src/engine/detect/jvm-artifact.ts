// The program a Maven or Gradle build produces, named as the build names it, so a start command points at a real
// file (target/orders-0.0.1-SNAPSHOT.jar) rather than a glob or a class name.
import { basename } from 'node:path';
import type { FolderView } from './types';

/** Maven's `<artifactId>-<version>.jar` in target/, or `<finalName>.jar`; undefined parts fall back to a glob. */
export function mavenJar(pom: string): string {
  const finalName = /<build>[\s\S]*?<finalName>\s*([^<\s]+)\s*<\/finalName>/.exec(pom)?.[1];
  if (finalName && !finalName.includes('${')) return `target/${finalName}.jar`;
  // The project's own artifactId and version are children of <project>, outside the blocks that hold others'.
  const own = pom.replace(/<(parent|dependencies|dependencyManagement|build|profiles|reporting)>[\s\S]*?<\/\1>/g, '');
  const artifactId = /<artifactId>\s*([^<\s]+)\s*<\/artifactId>/.exec(own)?.[1];
  const version =
    /<version>\s*([^<\s]+)\s*<\/version>/.exec(own)?.[1] ??
    /<parent>[\s\S]*?<version>\s*([^<\s]+)\s*<\/version>[\s\S]*?<\/parent>/.exec(pom)?.[1];
  if (!artifactId) return 'target/*.jar';
  return `target/${artifactId}-${version && !version.includes('${') ? version : '*'}.jar`;
}

/** Gradle's project name: settings' rootProject.name, else the folder's name (the repository's, at the root). */
export function gradleProjectName(folder: FolderView): string {
  for (const settings of ['settings.gradle', 'settings.gradle.kts']) {
    const text = folder.has(settings) ? (folder.read(settings) ?? '') : '';
    const name = /\brootProject\.name\s*=\s*['"]([^'"]+)['"]/.exec(text)?.[1];
    if (name) return name;
  }
  return folder.dir === '.' ? basename(folder.index.root) : folder.dir.slice(folder.dir.lastIndexOf('/') + 1);
}

/** `<name>-<version>` as Gradle names an archive; Gradle leaves out a version that was never set. */
function gradleArchive(folder: FolderView, build: string, classifier?: string): string {
  const version = /^\s*version\s*=\s*['"]([^'"]+)['"]/m.exec(build)?.[1];
  return [gradleProjectName(folder), version, classifier].filter(Boolean).join('-');
}

/**
 * How a Gradle project's program starts: Spring Boot's bootJar and a fat jar (Shadow, Ktor's buildFatJar) run with
 * `java -jar`; the `application` plugin's installDist writes a start script named after the project, which runs
 * the project's jar with its dependencies from build/install/<name>/lib.
 */
export function gradleStart(folder: FolderView, build: string, kind: 'boot' | 'application'): string {
  if (kind === 'boot') return `java -jar build/libs/${gradleArchive(folder, build)}.jar`;
  if (/\bio\.ktor\.plugin\b/.test(build)) return `java -jar build/libs/${gradleProjectName(folder)}-all.jar`;
  if (/\b(?:com\.github\.johnrengelman|com\.gradleup)\.shadow\b/.test(build)) {
    return `java -jar build/libs/${gradleArchive(folder, build, 'all')}.jar`;
  }
  const name = gradleProjectName(folder);
  return `build/install/${name}/bin/${name}`;
}

/** The class path of a Maven program run by class: its compiled classes and what `dependency:copy-dependencies` copies. */
export const MAVEN_CLASSPATH = 'target/classes:target/dependency/*';

/**
 * How a Maven project's program starts: the jar of a Spring Boot, shade or assembly build carries its dependencies
 * and main class, so it runs with `java -jar`; a main class only the exec plugin names runs by class, from the
 * compiled classes and the dependencies `mvn dependency:copy-dependencies` copies into target/dependency (the plain
 * jar holds neither a main class in its manifest nor the dependencies).
 */
export function mavenStart(pom: string, main?: string): string {
  const execOnly = main && /exec-maven-plugin/.test(pom) && !/maven-(?:shade|assembly|jar)-plugin/.test(pom);
  return execOnly ? `java -cp '${MAVEN_CLASSPATH}' ${main}` : `java -jar ${mavenJar(pom)}`;
}
