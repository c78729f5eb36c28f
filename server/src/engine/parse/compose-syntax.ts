// Compose's own syntax, read by compose import and by detection alike: which file names are compose files, and
// `${VAR}` interpolation (which Dockerfile ARG defaults and .env values share).

export function isComposeFileName(name: string): boolean {
  return /^(docker-)?compose(\.[\w-]+)?\.ya?ml$/.test(name);
}

/** `${VAR}`, `${VAR:-default}`, `${VAR-default}`, `${VAR:?error}`, `$VAR`, `$$`. */
export function interpolate(
  value: string,
  vars: Record<string, string>,
  onMissing?: (name: string, message?: string) => void,
): string {
  return value.replace(
    /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?)([-?+])((?:[^{}]|\{[^{}]*\})*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g,
    (whole, name, colon, op, arg, bare) => {
      if (whole === '$$') return '$';
      const key = name ?? bare;
      const v = vars[key];
      const unset = v === undefined || (colon === ':' && v === '');
      if (op === '-') return unset ? interpolate(arg ?? '', vars, onMissing) : v;
      if (op === '+') return unset ? '' : interpolate(arg ?? '', vars, onMissing);
      if (op === '?') {
        if (unset) onMissing?.(key, arg);
        return v ?? '';
      }
      if (v === undefined) onMissing?.(key);
      return v ?? '';
    },
  );
}
