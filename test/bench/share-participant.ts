// One participant of `npm run bench:share`, run as its own process (bundled to dist/bench/share-participant.js). It
// holds a real text document model (vscode-languageserver-textdocument's TextDocument, the one the language server
// keeps for each open file) bound to the room's Y.Text by the extension's own binding (TextBindingCore of
// extension/src/share/text-delta.ts), over either Kyozo's encrypted provider or the stock y-websocket provider.
//
// Participant i types into line i of the shared file, one character per keystroke at the end of that line, at
// `rate` keystrokes per second with a random gap, each keystroke applied to its document and fed to the binding as VS
// Code's change event would be. Each participant types its own character (U+4E00 + i), so a receiver knows whose k-th
// keystroke an applied edit carries by counting; the time it was applied to the receiver's document is recorded.
// Times are performance.timeOrigin + performance.now(): the same clock in every process of the machine.
import { TextDocument } from 'vscode-languageserver-textdocument';
import WebSocket from 'ws';
import * as Y from 'yjs';
import { WebsocketProvider } from 'y-websocket';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createIdentity,
  DeviceTrust,
  EncryptedProvider,
  fingerprint,
  JsonFileTrustStore,
  RoomKeyring,
  SyncApi,
} from '../../sync-server/src/client';
import { importIdentity, type ExportedIdentity } from '../../sync-server/src/client/identity';
import { WorkspaceDoc } from '../../extension/src/share/workspace-doc';
import {
  TextBindingCore,
  type DocumentPort,
  type TextChange,
  type TextEditOp,
} from '../../extension/src/share/text-delta';

export interface ParticipantConfig {
  kind: 'kyozo' | 'y-websocket';
  wsUrl: string;
  roomId: string;
  index: number;
  participants: number;
  rate: number;
  /** Keystrokes to type (the coordinator measures all but the first second's). */
  keystrokes: number;
  token?: string;
  identity?: ExportedIdentity;
  roomKey?: string; // base64
  initialText: string;
  /** The provider's batching of local edits (Kyozo only); the extension's when undefined. */
  batchMs?: number;
  /**
   * Join a room a VS Code window shares, as a guest's client does: create an account, register a new device, accept
   * the team's invite, take the team's signed roster, and, once the host has verified this device and shared, open
   * the room key wrapped to it. The shared file is the workspace document's shared.txt.
   */
  join?: { server: string; username: string; password: string; invite: string };
}

/** What a joining participant is told once the host has shared (see ParticipantConfig.join). */
export interface SharedRoom {
  roomId: string;
  teamId: string;
}

export type ParticipantMessage =
  | { type: 'ready' }
  | { type: 'enrolled'; fingerprint: string }
  | { type: 'typed'; sent: number[] }
  | { type: 'result'; arrivals: number[][]; text: string; stats: unknown; refused: Record<string, number> }
  | { type: 'error'; message: string };

const now = () => performance.timeOrigin + performance.now();
const send = (m: ParticipantMessage) => process.send!(m);
const charOf = (i: number) => String.fromCharCode(0x4e00 + i);

/** The DocumentPort of text-delta.ts on a TextDocument model: an edit becomes one change event, as in VS Code. */
class ModelPort implements DocumentPort {
  version = 1;
  onApplied?: (edits: TextEditOp[], at: number) => void;
  core?: TextBindingCore;

  constructor(public doc: TextDocument) {}

  getText(): string {
    return this.doc.getText();
  }

  eol(): '\n' {
    return '\n';
  }

  async applyEdits(edits: TextEditOp[]): Promise<boolean> {
    // TextDocument.update applies changes one after another: from the last to the first, each range stays valid.
    const ranges = edits.map((e) => ({
      range: { start: this.doc.positionAt(e.offset), end: this.doc.positionAt(e.offset + e.length) },
      text: e.text,
    }));
    TextDocument.update(this.doc, ranges.reverse(), ++this.version);
    this.onApplied?.(edits, now());
    this.core!.onDocumentChange(edits.map((e) => ({ rangeOffset: e.offset, rangeLength: e.length, text: e.text })));
    return true;
  }

  /** A keystroke: the document changes first, then its change event reaches the binding. */
  type(offset: number, text: string): void {
    const at = this.doc.positionAt(offset);
    TextDocument.update(this.doc, [{ range: { start: at, end: at }, text }], ++this.version);
    const change: TextChange = { rangeOffset: offset, rangeLength: 0, text };
    this.core!.onDocumentChange([change]);
  }
}

const nextMessage = <T>() => new Promise<T>((resolve) => process.once('message', (m: T) => resolve(m)));

/** Joins the room a VS Code host shares, through the team's invite, roster and wrapped key (ParticipantConfig.join). */
async function joinShared(cfg: ParticipantConfig, doc: Y.Doc): Promise<{ provider: EncryptedProvider; ytext: Y.Text }> {
  const { server, username, password, invite } = cfg.join!;
  const api = new SyncApi(server);
  await api.createAccount(username, password);
  await api.login(username, password);
  const identity = createIdentity();
  await api.registerDevice(identity);
  const trustDir = mkdtempSync(join(tmpdir(), 'kyozo-bench-trust-'));
  process.once('exit', () => rmSync(trustDir, { recursive: true, force: true }));
  const trust = await DeviceTrust.open(new JsonFileTrustStore(join(trustDir, 'trust.json')), identity);
  const { teamId } = await api.acceptInvite(invite);
  await api.syncRoster(teamId, trust);
  send({ type: 'enrolled', fingerprint: fingerprint(identity.signPublicKey, identity.dhPublicKey) });
  const room = await nextMessage<SharedRoom>();
  // The roster the host published after verifying every participant: the devices whose edits this one accepts.
  const keyring = await api.loadKeyring(room.roomId, identity, trust);
  if (!keyring.epochs().length) throw new Error(`${username}: no room key was wrapped to this device`);
  const provider = new EncryptedProvider(doc, {
    url: cfg.wsUrl,
    roomId: room.roomId,
    token: api.token!,
    identity,
    keyring,
    batchMs: cfg.batchMs,
    trust: trust.forTeam(teamId),
    refreshKeys: async () => {
      await api.loadKeyring(room.roomId, identity, trust, keyring);
    },
  });
  await provider.whenSynced();
  const workspace = new WorkspaceDoc(doc);
  const end = Date.now() + 20_000;
  let ytext = workspace.textOf('shared.txt');
  while (!ytext) {
    if (Date.now() > end) throw new Error(`${username}: shared.txt is not in the shared workspace`);
    await new Promise((r) => setTimeout(r, 20));
    ytext = workspace.textOf('shared.txt');
  }
  return { provider, ytext };
}

async function run(cfg: ParticipantConfig): Promise<void> {
  const doc = new Y.Doc();
  let ytext = doc.getText('shared.txt');
  let provider: EncryptedProvider | WebsocketProvider;
  if (cfg.join) {
    ({ provider, ytext } = await joinShared(cfg, doc));
  } else if (cfg.kind === 'kyozo') {
    const keyring = new RoomKeyring();
    keyring.set(1, Buffer.from(cfg.roomKey!, 'base64'));
    provider = new EncryptedProvider(doc, {
      url: cfg.wsUrl,
      roomId: cfg.roomId,
      token: cfg.token!,
      identity: importIdentity(cfg.identity!),
      keyring,
      batchMs: cfg.batchMs,
      // Every participant is one account's device here; the roster checks are not what is measured.
      trust: { canWrite: () => true, isMember: () => true },
    });
    await provider.whenSynced();
  } else {
    const p = new WebsocketProvider(cfg.wsUrl, cfg.roomId, doc, { WebSocketPolyfill: WebSocket as never });
    provider = p;
    await new Promise<void>((resolve) => {
      if (p.synced) return resolve();
      const on = (synced: boolean) => {
        if (!synced) return;
        p.off('sync', on);
        resolve();
      };
      p.on('sync', on);
    });
  }
  // The first participant fills the file, as a host sharing it would; the others wait for its text.
  if (cfg.index === 0 && ytext.length === 0) ytext.insert(0, cfg.initialText);
  const end = Date.now() + 20_000;
  while (ytext.toString() !== cfg.initialText) {
    if (Date.now() > end) throw new Error(`participant ${cfg.index}: the initial text did not arrive`);
    await new Promise((r) => setTimeout(r, 20));
  }
  const port = new ModelPort(TextDocument.create('file:///bench/shared.txt', 'plaintext', 1, ytext.toString()));
  const core = new TextBindingCore(ytext, port);
  port.core = core;
  const arrivals: number[][] = Array.from({ length: cfg.participants }, () => []);
  const codes = new Map(Array.from({ length: cfg.participants }, (_, i) => [charOf(i), i]));
  port.onApplied = (edits, at) => {
    for (const e of edits)
      for (const ch of e.text) {
        const who = codes.get(ch);
        if (who !== undefined) arrivals[who].push(at);
      }
  };
  send({ type: 'ready' });
  await nextMessage(); // 'go'

  const sent: number[] = [];
  const mine = charOf(cfg.index);
  const gap = 1000 / cfg.rate;
  for (let k = 0; k < cfg.keystrokes; k++) {
    // A random gap around the rate (0.5 to 1.5 times the mean), so participants do not type in lockstep.
    await new Promise((r) => setTimeout(r, gap * (0.5 + Math.random())));
    const offset = port.doc.offsetAt({ line: cfg.index + 1, character: 0 }) - 1; // the end of line `index`
    sent.push(now());
    port.type(offset, mine);
  }
  send({ type: 'typed', sent });
  // Until every keystroke of everyone has arrived here (the coordinator then asks for the result).
  await nextMessage();
  await core.whenIdle();
  send({
    type: 'result',
    arrivals,
    text: port.doc.getText(),
    stats: core.stats,
    refused: provider instanceof EncryptedProvider ? provider.refused : {},
  });
  provider.destroy();
}

process.once('message', (cfg: ParticipantConfig) => {
  run(cfg).then(
    () => setTimeout(() => process.exit(0), 100),
    (err: Error) => {
      send({ type: 'error', message: err.stack ?? String(err) });
      setTimeout(() => process.exit(1), 100);
    },
  );
});
