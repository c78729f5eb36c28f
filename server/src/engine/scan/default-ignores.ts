// Folders that never hold a service of their own: dependency caches, build output, VCS and tool state.
// Matched by name at any depth, before any .gitignore rule, so the walk never descends into them.
export const DEFAULT_IGNORED_DIRS: ReadonlySet<string> = new Set([
  '.git', '.hg', '.svn',
  'node_modules', 'bower_components', 'jspm_packages', '.pnpm-store', '.yarn',
  'dist', 'build', 'out', 'target', 'vendor', 'coverage', '.nyc_output',
  '.next', '.nuxt', '.output', '.svelte-kit', '.astro', '.turbo', '.nx', '.cache', '.parcel-cache', '.vite',
  '.venv', 'venv', '__pycache__', '.tox', '.nox', '.mypy_cache', '.pytest_cache', '.ruff_cache', '.eggs',
  '.gradle', '.m2', '.idea', '.terraform', '.serverless', '.kyozo', 'obj',
]);

/** Default cap on bytes read from one file; manifests are small, code entry points rarely larger. */
export const DEFAULT_MAX_FILE_BYTES = 512 * 1024;
