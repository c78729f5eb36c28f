// Parsing shared by the CLI's command families, kept free of the Docker client so engine-only commands can use it.
import { BASE_IMAGE_KEYS, isBaseImageKey, type BaseImages } from '../engine';

/** Bad input on the command line: exit code 2 with the message. */
export class CliInputError extends Error {}

/** `--base-image runtime=image` (repeatable), after KYOZO_BASE_IMAGES. */
export function parseBaseImages(list: string[]): BaseImages {
  const out: BaseImages = {};
  const all = [...(process.env.KYOZO_BASE_IMAGES ?? '').split(',').filter(Boolean), ...list];
  for (const item of all) {
    const [runtime, image] = item.split('=', 2).map((x) => x.trim());
    if (!runtime || !image || !isBaseImageKey(runtime)) {
      throw new CliInputError(
        `--base-image expects <runtime>=<image> with runtime one of ${BASE_IMAGE_KEYS.join(', ')}; ` + `got '${item}'`,
      );
    }
    out[runtime] = image;
  }
  return out;
}
