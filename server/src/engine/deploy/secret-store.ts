// Environment secrets kept in the user's secret store: the Docker credential helper that already keeps their registry
// passwords (`credsStore` of $DOCKER_CONFIG/config.json: docker-credential-secretservice, -osxkeychain, -wincred,
// -pass), or the helper KYOZO_SECRET_STORE names. The helper protocol (docker-credential-helpers) is the interface, so
// Kyozo holds no store of its own and never writes a secret to disk.
//
// An entry's key is `kyozo:<real workspace root>#<environment>/<name>`: a repository's kyozo.yaml can name only the
// secrets set for its own checkout and environment, never a registry password or another project's secret (a
// hostile repository could otherwise have any stored credential put into a container it controls).
import { execFileSync } from 'node:child_process';
import { realpathSync } from 'node:fs';
import { STORE_SECRET_NAME } from '../../protocol';
import { readDockerConfig } from './registry-credentials';

export class SecretStoreError extends Error {
  constructor(
    message: string,
    /** The store cannot be used at all (none set, its helper not installed or not answering), not just this entry. */
    readonly unusable = false,
  ) {
    super(message);
  }
}

const HELPER = /^[a-z0-9][a-z0-9_.-]*$/;
const TIMEOUT_MS = 15_000;

/** The helper the store runs (`docker-credential-<helper>`): KYOZO_SECRET_STORE, else Docker's credsStore. */
export function secretStoreHelper(): string {
  const named = process.env.KYOZO_SECRET_STORE?.trim() || readDockerConfig().credsStore;
  if (!named)
    throw new SecretStoreError(
      'no secret store is set: Kyozo keeps secrets in your Docker credential store; set credsStore in ' +
        '~/.docker/config.json (secretservice, osxkeychain, wincred or pass, as for docker login) or ' +
        'KYOZO_SECRET_STORE=<helper>',
      true,
    );
  if (!HELPER.test(named))
    throw new SecretStoreError(`the secret store '${named}' is not a credential helper name (such as pass)`, true);
  return named;
}

function prefix(root: string): string {
  let real: string;
  try {
    real = realpathSync(root);
  } catch (e) {
    throw new SecretStoreError(`the workspace ${root} cannot be read: ${(e as Error).message}`);
  }
  return `kyozo:${real}#`;
}

/** The store's key of a workspace's secret. */
export function secretKey(root: string, environment: string, name: string): string {
  if (!STORE_SECRET_NAME.test(name))
    throw new SecretStoreError(
      `'${name.slice(0, 80)}' is not a secret name: use letters, digits, _ . - (at most 64 characters)`,
    );
  return `${prefix(root)}${environment}/${name}`;
}

function helper(helperName: string, verb: 'get' | 'store' | 'erase' | 'list', input: string): string {
  try {
    return execFileSync(`docker-credential-${helperName}`, [verb], {
      input,
      encoding: 'utf8',
      stdio: ['pipe', 'pipe', 'pipe'],
      timeout: TIMEOUT_MS,
    });
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { stdout?: string; stderr?: string; status?: number | null };
    if (err.code === 'ENOENT')
      throw new SecretStoreError(
        `the secret store docker-credential-${helperName} is not installed (not on PATH); install it or set ` +
          'KYOZO_SECRET_STORE to the helper you use',
        true,
      );
    if (err.code === 'ETIMEDOUT')
      throw new SecretStoreError(
        `the secret store docker-credential-${helperName} did not answer within ${TIMEOUT_MS / 1000} s (is it ` +
          'waiting for a passphrase or an unlocked keyring?)',
        true,
      );
    // Helpers say what went wrong on stdout (docker-credential-helpers) or stderr; never the secret itself.
    const said = `${err.stdout ?? ''} ${err.stderr ?? ''}`.trim().split('\n')[0]!.slice(0, 200);
    throw new SecretStoreError(`docker-credential-${helperName} ${verb} failed${said ? `: ${said}` : ''}`);
  }
}

const notFound = (e: unknown) => e instanceof SecretStoreError && /not found|no such|does not exist/i.test(e.message);

/** The value the store holds under `key`, or undefined when it has none. */
function entryOf(store: string, key: string): string | undefined {
  let out: string;
  try {
    out = helper(store, 'get', key);
  } catch (e) {
    if (notFound(e)) return undefined;
    throw e;
  }
  try {
    const entry = JSON.parse(out) as { Secret?: unknown };
    // Some helpers (docker-credential-pass 0.6) answer a missing entry with an empty secret rather than an error.
    return typeof entry.Secret === 'string' && entry.Secret !== '' ? entry.Secret : undefined;
  } catch {
    throw new SecretStoreError(`docker-credential-${store} get answered something other than JSON`);
  }
}

/** The value of a workspace's secret, or undefined when the store has none under that name. */
export function readStoredSecret(root: string, environment: string, name: string): string | undefined {
  return entryOf(secretStoreHelper(), secretKey(root, environment, name));
}

/** Stores (or replaces) a workspace's secret. */
export function storeSecret(root: string, environment: string, name: string, value: string): void {
  if (!value) throw new SecretStoreError(`the value of ${name} is empty: nothing was stored`);
  const store = secretStoreHelper();
  const entry = { ServerURL: secretKey(root, environment, name), Username: 'kyozo', Secret: value };
  helper(store, 'store', JSON.stringify(entry));
}

/** Removes a workspace's secret; false when there was none. */
export function eraseSecret(root: string, environment: string, name: string): boolean {
  const store = secretStoreHelper();
  const key = secretKey(root, environment, name);
  if (entryOf(store, key) === undefined) return false;
  helper(store, 'erase', key);
  return true;
}

/** The workspace's secrets in the store (names only), by environment. */
export function listStoredSecrets(root: string): { environment: string; name: string }[] {
  const store = secretStoreHelper();
  let keys: Record<string, unknown>;
  try {
    keys = JSON.parse(helper(store, 'list', '')) as Record<string, unknown>;
  } catch (e) {
    if (e instanceof SecretStoreError) throw e;
    throw new SecretStoreError(`docker-credential-${store} list answered something other than JSON`);
  }
  const mine = prefix(root);
  return Object.keys(keys)
    .filter((k) => k.startsWith(mine))
    .map((k) => {
      const rest = k.slice(mine.length);
      const slash = rest.indexOf('/');
      return { environment: rest.slice(0, slash), name: rest.slice(slash + 1) };
    })
    .filter((s) => s.environment && STORE_SECRET_NAME.test(s.name))
    .sort((a, b) => a.environment.localeCompare(b.environment) || a.name.localeCompare(b.name));
}
