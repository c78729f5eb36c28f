// package.json `engines.node` in a generated Node image: which configured base image satisfies it, and a build step
// that says so plainly when the chosen image's Node does not (a build on a too-old Node fails later with errors that
// do not name the cause: a syntax error, a missing `node:` API, `EBADENGINE` under engine-strict).

/** One `||` alternative of a range: the lowest version it accepts and whether it stays within that major. */
interface Lower {
  version: [number, number, number];
  sameMajor: boolean;
}

/**
 * The lower bounds of the common range forms (`>=22.12`, `^20.19.0 || >=22.12.0`, `22.x`, `~22.3`, `22`); undefined
 * when an alternative is of another form (`<21`, `18 - 22`), so nothing is claimed about a range not understood.
 */
export function nodeEngineBounds(range: string): Lower[] | undefined {
  const bounds: Lower[] = [];
  for (const alternative of range.split('||').map((a) => a.trim())) {
    const m = /^(>=|\^|~|=)?\s*v?(\d+)(?:\.(\d+|x|\*))?(?:\.(\d+|x|\*))?(?:\s+<\s*\S+)?$/.exec(alternative);
    if (!m) return undefined;
    const num = (t: string | undefined) => (t === undefined || t === 'x' || t === '*' ? 0 : Number(t));
    bounds.push({ version: [num(m[2]), num(m[3]), num(m[4])], sameMajor: m[1] !== '>=' });
  }
  return bounds.length ? bounds : undefined;
}

/** Whether a Node major (any of its releases from `.0` up) can satisfy the range. */
export function majorSatisfies(bounds: Lower[], major: number): boolean {
  return bounds.some((b) => (b.sameMajor ? b.version[0] === major : b.version[0] <= major));
}

/**
 * The base image configured for a Node major the range accepts (`node-22`, `node-24`: keys of kyozo.baseImages,
 * `--base-image`, KYOZO_BASE_IMAGES), the lowest such major first; undefined when none is configured.
 */
export function nodeImageForEngine(range: string | undefined, images: Record<string, string | undefined>) {
  const bounds = range ? nodeEngineBounds(range) : undefined;
  if (!bounds) return undefined;
  const majors = Object.keys(images)
    .map((k) => /^node-(\d+)$/.exec(k)?.[1])
    .filter((m): m is string => m !== undefined && images[`node-${m}`] !== undefined)
    .map(Number)
    .sort((a, b) => a - b);
  const major = majors.find((m) => majorSatisfies(bounds, m));
  return major === undefined ? undefined : { major, image: images[`node-${major}`]! };
}

/**
 * A build step that prints a warning, without failing, when the image's Node is outside the range; the check runs
 * in the image, so it holds for any base image whatever its tag says.
 */
export function nodeEngineCheck(range: string | undefined): string[] {
  const bounds = range ? nodeEngineBounds(range) : undefined;
  if (!range || !bounds) return [];
  const message =
    `warning: package.json engines.node is "${range}" but this image has Node %s; the build or the ` +
    'app may fail on it. Choose a base image with a Node it accepts: --base-image node-<major>=<image> (or ' +
    'node=<image>), KYOZO_BASE_IMAGES or the kyozo.baseImages setting, or base_image in kyozo.yaml';
  const script = [
    "const v = process.versions.node.split('.').map(Number);",
    `const ok = ${JSON.stringify(bounds.map((b) => [...b.version, b.sameMajor ? 1 : 0]))}.some(([M, m, p, same]) =>`,
    '  (!same || v[0] === M) && (v[0] - M || v[1] - m || v[2] - p) >= 0);',
    `if (!ok) console.log(${JSON.stringify(message)}, process.versions.node);`,
  ].join(' ');
  return [`RUN ${JSON.stringify(['node', '-e', script])}`];
}
