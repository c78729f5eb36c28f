// Which variables hold secrets, so their literal values are never copied into files people commit or share.

const SECRET_NAME =
  /(PASSWORD|PASSWD|SECRET|SECRET_?KEY|TOKEN|API_?KEY|PRIVATE_?KEY|ACCESS_?KEY|SIGNING_?KEY|CREDENTIALS?)$/i;

/** A literal value written for a secret-looking variable (not an interpolation, not empty, not a placeholder). */
export function looksLikeSecretLiteral(name: string, value: string | undefined): boolean {
  if (!value || !SECRET_NAME.test(name)) return false;
  if (/\$\{?[A-Za-z_]/.test(value)) return false;
  if (/^(changeme|change-me|example|xxx+|\*+|<.*>|your[-_].*)$/i.test(value)) return false;
  return value.length >= 4;
}

export function isSecretName(name: string): boolean {
  return SECRET_NAME.test(name) || /(^|_)(PASS|PWD|KEY)$/i.test(name);
}
