// The client library of the Kyozo sync server: identities, what the device trusts (verified and pinned fingerprints,
// signed team rosters), the HTTP API with key management, and the encrypted Yjs provider. The extension and the
// tests import from here.
export {
  createIdentity,
  exportIdentity,
  importIdentity,
  fingerprint,
  type DeviceIdentity,
  type ExportedIdentity,
} from './identity';
export {
  RoomKeyring,
  OpenError,
  sealData,
  openData,
  sealSnapshot,
  openSnapshot,
  wrapRoomKey,
  unwrapRoomKey,
  newRoomKey,
} from './room-crypto';
export { SyncApi, SyncApiError, type MemberInfo, type Removal, type RemovalOptions, type RoomInfo } from './api-client';
export { EncryptedProvider, type ProviderOptions, type ProviderStatus } from './provider';
export { DeviceTrust, type KnownDevice, type RoomTrust, type TrustWarning, type WrapPolicy } from './device-trust';
export {
  RosterError,
  openRoster,
  signRoster,
  rosterEntry,
  type RosterMember,
  type RosterRole,
  type TeamRoster,
} from './team-roster';
export {
  JsonFileTrustStore,
  MemoryTrustStore,
  TrustStoreError,
  type TrustSnapshot,
  type TrustState,
  type TrustStore,
} from './trust-store';
