// Which of the engine's builders builds images: BuildKit (cache mounts for package managers, parallel stages) or the
// classic builder, whose Dockerfile syntax is older and which refuses `RUN --mount`. `auto` picks BuildKit when the
// engine has it (image-builder.ts asks the engine); generated Dockerfiles are written for the builder that runs them.
export type Builder = 'buildkit' | 'classic';
export type BuilderChoice = Builder | 'auto';

export const BUILDER_CHOICES: readonly BuilderChoice[] = ['auto', 'buildkit', 'classic'];

/** A builder named on the command line, in KYOZO_BUILDER or in settings; `from` says where, for the error. */
export function parseBuilderChoice(value: string | undefined, from: string): BuilderChoice | undefined {
  const v = value?.trim().toLowerCase();
  if (!v) return undefined;
  if ((BUILDER_CHOICES as readonly string[]).includes(v)) return v as BuilderChoice;
  throw new Error(`${from} expects one of ${BUILDER_CHOICES.join(', ')}; got '${value}'`);
}
