// URLs of the services a sync server talks to (PostgreSQL, Redis) carry passwords: logs and errors show them without.

/** The URL with its password replaced by ***, or a placeholder when it does not parse. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparsable URL)';
  }
}
