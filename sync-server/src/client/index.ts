// The client library of the Kyozo sync server: identities, the HTTP API with key management, and the encrypted
// Yjs provider. The extension and the tests import from here.
export { createIdentity, exportIdentity, importIdentity, fingerprint, type DeviceIdentity, type ExportedIdentity } from './identity';
export { RoomKeyring, OpenError, sealData, openData, sealSnapshot, openSnapshot, wrapRoomKey, unwrapRoomKey, newRoomKey } from './room-crypto';
export { SyncApi, SyncApiError, type MemberInfo, type RoomInfo } from './api-client';
export { EncryptedProvider, type ProviderOptions, type ProviderStatus } from './provider';
