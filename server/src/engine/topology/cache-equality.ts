// Element-wise equality for the caches that decide, on every update, whether a stage's last result still stands.
// Allocation-free: these run over every service on every edit.

/** True when both arrays hold equal items in the same order (`===` unless `eq` says otherwise). */
export function sameItems<T>(a: readonly T[], b: readonly T[], eq?: (x: T, y: T) => boolean): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i] && (eq === undefined || !eq(a[i], b[i]))) return false;
  return true;
}

/** sameItems for arrays that may be absent: equal when both are absent or both hold the same items. */
export function sameOptionalItems<T>(a: readonly T[] | undefined, b: readonly T[] | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return sameItems(a, b);
}
