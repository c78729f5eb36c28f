// This device's identity and trust: the Ed25519 + X25519 keys are generated once and their private halves kept in
// VS Code's SecretStorage (the OS keychain where there is one); what the device trusts (verified and pinned
// fingerprints, accepted team rosters) lives in a 0600 JSON file per sync server under the extension's global storage.
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type * as vscode from 'vscode';
import { DeviceTrust } from '../../../sync-server/src/client/device-trust';
import {
  createIdentity,
  exportIdentity,
  fingerprint,
  importIdentity,
  type DeviceIdentity,
  type ExportedIdentity,
} from '../../../sync-server/src/client/identity';
import { JsonFileTrustStore } from '../../../sync-server/src/client/trust-store';
import { ShareError } from './share-errors';

/** The SecretStorage entry holding this device's private keys (PKCS#8, base64). */
export const DEVICE_SECRET = 'kyozo-share/device-identity';

let pending: Promise<DeviceIdentity> | undefined;

/** This device's identity: read from SecretStorage, or generated and stored there on first use. */
export function deviceIdentity(secrets: vscode.SecretStorage): Promise<DeviceIdentity> {
  pending ??= loadOrCreate(secrets).catch((e) => {
    pending = undefined;
    throw e;
  });
  return pending;
}

async function loadOrCreate(secrets: vscode.SecretStorage): Promise<DeviceIdentity> {
  const stored = await secrets.get(DEVICE_SECRET);
  if (stored) {
    try {
      return importIdentity(JSON.parse(stored) as ExportedIdentity);
    } catch (e) {
      throw new ShareError(
        `this device's stored keys do not load (${(e as Error).message}); they were left as they are. ` +
          `Restore the secret ${DEVICE_SECRET} from a backup of your keychain, or delete it to start as a new device`,
      );
    }
  }
  const id = createIdentity();
  await secrets.store(DEVICE_SECRET, JSON.stringify(exportIdentity(id)));
  return id;
}

export function deviceFingerprint(id: DeviceIdentity): string {
  return fingerprint(id.signPublicKey, id.dhPublicKey);
}

/** The trust file of one sync server (a server cannot touch what this device decided about another). */
export function trustFile(globalStorage: string, server: string): string {
  const tag = createHash('sha256').update(server).digest('hex').slice(0, 16);
  return join(globalStorage, 'share', `trust-${tag}.json`);
}

const trusts = new Map<string, Promise<DeviceTrust>>();

/** The DeviceTrust of `server` for this device, opened once per window. */
export function deviceTrust(globalStorage: string, server: string, id: DeviceIdentity): Promise<DeviceTrust> {
  const file = trustFile(globalStorage, server);
  let t = trusts.get(file);
  if (!t) {
    t = DeviceTrust.open(new JsonFileTrustStore(file), id);
    t.catch(() => trusts.delete(file));
    trusts.set(file, t);
  }
  return t;
}
