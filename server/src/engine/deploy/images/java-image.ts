// Java: Maven or Gradle builds the jar in the JDK image; a JRE runs it.
import type { ImageTemplate } from './dockerfile-parts';
import { expose, USER } from './dockerfile-parts';

export const javaImage: ImageTemplate = {
  lines(service, { base, run }) {
    const gradle = service.build?.packageManager === 'gradle';
    return [
      `FROM ${base} AS build`,
      'WORKDIR /src',
      'COPY . .',
      gradle
        ? 'RUN ./gradlew --no-daemon bootJar -x test || ./gradlew --no-daemon build -x test; mkdir -p /out && cp $(ls build/libs/*.jar | grep -v plain | head -n 1) /out/app.jar'
        : 'RUN ./mvnw -q -DskipTests package || mvn -q -DskipTests package; mkdir -p /out && cp $(ls target/*.jar | head -n 1) /out/app.jar',
      '',
      `FROM ${run}`,
      'COPY --from=build /out/app.jar /app/app.jar',
      `USER ${USER}`,
      ...expose(service),
      'CMD ["java", "-jar", "/app/app.jar"]',
    ];
  },
};
