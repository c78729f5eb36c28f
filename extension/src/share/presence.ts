// Presence in a shared workspace, without the editor: what each participant publishes in the room's awareness (their
// file, cursors and selections, visible range, last activity), who they are (from the team's signed roster for the
// device that signed their presence, not from what they claim), their colour, whether they are idle, and where their
// cursors fall in a file now. Cursors travel as Yjs relative positions on the file's Y.Text, so an edit made anywhere
// before them, by anyone, moves them with the text instead of leaving them at a stale offset.
// room-presence.ts adapts this to editors; the unit tests run it on real Y.Docs.
import { createHash } from 'node:crypto';
import * as Y from 'yjs';
import { isNormalSharePath } from './workspace-doc';

/** After this long without a cursor move or an edit, a participant is shown as idle. */
export const IDLE_AFTER_MS = 60_000;
const MAX_SELECTIONS = 64;
const MAX_NAME = 100;

/** A Yjs relative position as Y.relativePositionToJSON writes it. */
export type RelativePositionJson = Record<string, unknown>;

export interface PresenceSelection {
  anchor: RelativePositionJson;
  head: RelativePositionJson;
}

/** One participant's awareness state (the room's encryption covers it like the edits). */
export interface PresenceState {
  user: { name: string; color?: string; fingerprint?: string };
  /** Whether the participant shares the folder or joined it. */
  role: 'host' | 'guest';
  /** The path of the file in their active editor, relative to the shared folder (the same on every side). */
  file?: string;
  /** Their selections in that file, the primary one first; a cursor is a selection whose anchor is its head. */
  selections?: PresenceSelection[];
  /** The first and last visible character of their editor (what Follow scrolls to). */
  visible?: { start: RelativePositionJson; end: RelativePositionJson };
  /** Their clock when they last moved the cursor or typed (ms since the epoch). */
  lastActive?: number;
}

/** A selection as offsets (UTF-16 code units, as Y.Text and TextDocument.offsetAt count them). */
export interface OffsetSelection {
  anchor: number;
  head: number;
}

const HEX_COLOR = /^#[0-9a-f]{6}$/;

/**
 * A participant's colour, from their device fingerprint: the same device has the same colour in every window and every
 * session, and two devices rarely share one (the hue comes from 16 bits of the fingerprint's hash, in steps the eye
 * tells apart, at a saturation and lightness that read on light and dark themes).
 */
export function colorOf(fingerprint: string): string {
  const h = createHash('sha256').update(fingerprint.replace(/\s+/g, '').toLowerCase()).digest();
  const hue = ((h.readUInt16BE(0) % 24) * 15 + (h[2] % 3) * 5) % 360;
  const saturation = 0.65 + (h[3] % 3) * 0.08;
  const lightness = 0.48 + (h[4] % 3) * 0.05;
  return hslToHex(hue, saturation, lightness);
}

function hslToHex(hue: number, s: number, l: number): string {
  const c = (1 - Math.abs(2 * l - 1)) * s;
  const x = c * (1 - Math.abs(((hue / 60) % 2) - 1));
  const m = l - c / 2;
  const [r, g, b] = [
    [c, x, 0],
    [x, c, 0],
    [0, c, x],
    [0, x, c],
    [x, 0, c],
    [c, 0, x],
  ][Math.floor(hue / 60) % 6];
  return `#${[r, g, b]
    .map((v) =>
      Math.round((v + m) * 255)
        .toString(16)
        .padStart(2, '0'),
    )
    .join('')}`;
}

/** Black or white, whichever reads better on `color` (a name tag's text). */
export function textColorOn(color: string): '#000000' | '#ffffff' {
  const n = parseInt(color.slice(1), 16);
  const [r, g, b] = [(n >> 16) & 255, (n >> 8) & 255, n & 255].map((v) => {
    const s = v / 255;
    return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b > 0.4 ? '#000000' : '#ffffff';
}

/** Offsets in `text` as relative positions, which stay with the characters they sit beside while others edit. */
export function encodeSelections(text: Y.Text, selections: readonly OffsetSelection[]): PresenceSelection[] {
  const at = (i: number) =>
    Y.relativePositionToJSON(
      Y.createRelativePositionFromTypeIndex(text, clamp(i, text.length)),
    ) as RelativePositionJson;
  return selections.slice(0, MAX_SELECTIONS).map((s) => ({ anchor: at(s.anchor), head: at(s.head) }));
}

export function encodeRange(
  text: Y.Text,
  start: number,
  end: number,
): { start: RelativePositionJson; end: RelativePositionJson } {
  const [s] = encodeSelections(text, [{ anchor: start, head: end }]);
  return { start: s.anchor, end: s.head };
}

/** Where a relative position is in `text` now, or undefined when it belongs to another text or is malformed. */
export function decodePosition(text: Y.Text, json: unknown): number | undefined {
  if (!json || typeof json !== 'object') return undefined;
  const doc = text.doc;
  if (!doc) return undefined;
  try {
    const abs = Y.createAbsolutePositionFromRelativePosition(Y.createRelativePositionFromJSON(json), doc);
    if (!abs || abs.type !== text) return undefined;
    return clamp(abs.index, text.length);
  } catch {
    return undefined; // a peer's malformed position: no cursor rather than an error
  }
}

/** A participant's selections in `text` as offsets now; those that do not resolve in it are left out. */
export function decodeSelections(
  text: Y.Text,
  selections: readonly PresenceSelection[] | undefined,
): OffsetSelection[] {
  const out: OffsetSelection[] = [];
  for (const s of selections ?? []) {
    const anchor = decodePosition(text, s.anchor);
    const head = decodePosition(text, s.head);
    if (anchor !== undefined && head !== undefined) out.push({ anchor, head });
  }
  return out;
}

/** A peer's awareness state checked field by field: what has the wrong shape is dropped, never used. */
export function readPresence(raw: unknown): PresenceState | undefined {
  if (!raw || typeof raw !== 'object') return undefined;
  const r = raw as Record<string, unknown>;
  const user = r.user as Record<string, unknown> | undefined;
  if (!user || typeof user !== 'object' || typeof user.name !== 'string' || !user.name) return undefined;
  const out: PresenceState = {
    user: { name: user.name.slice(0, MAX_NAME) },
    role: r.role === 'host' ? 'host' : 'guest',
  };
  if (typeof user.color === 'string' && HEX_COLOR.test(user.color)) out.user.color = user.color;
  if (typeof user.fingerprint === 'string' && user.fingerprint.length <= 200) out.user.fingerprint = user.fingerprint;
  if (isNormalSharePath(r.file)) out.file = r.file;
  if (Array.isArray(r.selections)) {
    out.selections = r.selections
      .slice(0, MAX_SELECTIONS)
      .filter(
        (s): s is PresenceSelection =>
          !!s &&
          typeof s === 'object' &&
          isObject((s as PresenceSelection).anchor) &&
          isObject((s as PresenceSelection).head),
      );
  }
  const v = r.visible as Record<string, unknown> | undefined;
  if (v && typeof v === 'object' && isObject(v.start) && isObject(v.end))
    out.visible = { start: v.start as RelativePositionJson, end: v.end as RelativePositionJson };
  if (typeof r.lastActive === 'number' && Number.isFinite(r.lastActive)) out.lastActive = r.lastActive;
  return out;
}

/** Who a device is, as the team's accepted roster lists it. */
export interface RosterIdentity {
  username: string;
  role: string;
  fingerprint: string;
}

export interface Participant {
  clientId: number;
  self: boolean;
  /** The roster's username for the device that signed the presence; the claimed name when no roster entry is known. */
  name: string;
  role: 'host' | 'guest';
  /** Their role in the team (owner, admin, member, viewer), from the roster. */
  teamRole?: string;
  fingerprint?: string;
  color: string;
  /** The name, role and fingerprint come from the signed roster (false: only what the peer claimed). */
  verified: boolean;
  /** What the peer claimed when it differs from the roster (shown, so a mismatch is visible). */
  claimedName?: string;
  file?: string;
  idle: boolean;
  state: PresenceState;
}

export interface ParticipantSources {
  /** This window's awareness client id. */
  self: number;
  /** This device's own identity (the roster lists it too, but this holds before the roster loads). */
  own: RosterIdentity;
  /** The signing key (hex) of the device that spoke for a client id, as the provider recorded it. */
  ownerOf(clientId: number): string | undefined;
  /** The roster entry of a device's signing key (hex). */
  lookup(signKeyHex: string): RosterIdentity | undefined;
  activity: ActivityClock;
  now: number;
}

/** Every participant of a room's awareness, this window first, then by name. */
export function participantsOf(states: Map<number, unknown>, src: ParticipantSources): Participant[] {
  const out: Participant[] = [];
  for (const [clientId, raw] of states) {
    const state = readPresence(raw);
    if (!state) continue;
    const self = clientId === src.self;
    const owner = self ? undefined : src.ownerOf(clientId);
    const who = self ? src.own : owner ? src.lookup(owner) : undefined;
    src.activity.note(clientId, state.lastActive, src.now);
    const fingerprint = who?.fingerprint ?? state.user.fingerprint;
    out.push({
      clientId,
      self,
      name: who?.username ?? state.user.name,
      role: state.role,
      teamRole: who?.role,
      fingerprint,
      color: fingerprint ? colorOf(fingerprint) : (state.user.color ?? '#888888'),
      verified: who !== undefined,
      claimedName: who && who.username !== state.user.name ? state.user.name : undefined,
      file: state.file,
      idle: src.activity.idle(clientId, src.now),
      state,
    });
  }
  src.activity.retain(new Set(states.keys()));
  return out.sort((a, b) => (a.self !== b.self ? (a.self ? -1 : 1) : a.name.localeCompare(b.name)));
}

/**
 * When each participant was last active, on this machine's clock: a peer's clock may be off by minutes, so its
 * `lastActive` is read only as "it changed" (the moment this window saw it change), except the first time a
 * participant is seen, when how long ago it says is the best there is.
 */
export class ActivityClock {
  private readonly seen = new Map<number, { mark: number | undefined; at: number }>();

  constructor(private readonly idleAfterMs = IDLE_AFTER_MS) {}

  note(clientId: number, lastActive: number | undefined, now: number): void {
    const known = this.seen.get(clientId);
    if (!known) this.seen.set(clientId, { mark: lastActive, at: Math.min(now, lastActive ?? now) });
    else if (known.mark !== lastActive) this.seen.set(clientId, { mark: lastActive, at: now });
  }

  idle(clientId: number, now: number): boolean {
    const known = this.seen.get(clientId);
    return known !== undefined && now - known.at >= this.idleAfterMs;
  }

  /** Forgets participants who left. */
  retain(present: Set<number>): void {
    for (const id of this.seen.keys()) if (!present.has(id)) this.seen.delete(id);
  }
}

/** A participant's cursors in one file, as offsets in its text now: what an editor draws. */
export interface RemoteCursors {
  clientId: number;
  name: string;
  color: string;
  idle: boolean;
  hover: string;
  /** start <= end; `head` is where the caret is (start or end). */
  selections: { start: number; end: number; head: number }[];
}

/** The cursors of every other participant whose active file is `path`, resolved in `text`. */
export function cursorsIn(path: string, text: Y.Text, participants: readonly Participant[]): RemoteCursors[] {
  const out: RemoteCursors[] = [];
  for (const p of participants) {
    if (p.self || p.file !== path) continue;
    const selections = decodeSelections(text, p.state.selections).map((s) => ({
      start: Math.min(s.anchor, s.head),
      end: Math.max(s.anchor, s.head),
      head: s.head,
    }));
    if (!selections.length) continue;
    out.push({ clientId: p.clientId, name: p.name, color: p.color, idle: p.idle, hover: hoverOf(p), selections });
  }
  return out;
}

/** The line shown when hovering a participant's cursor or selection. */
export function hoverOf(p: Participant): string {
  const role = [p.role, p.teamRole].filter(Boolean).join(', ');
  const who = p.verified ? `device ${p.fingerprint ?? ''}` : 'not in the team roster this window holds';
  const claimed = p.claimedName ? ` (calls itself ${p.claimedName})` : '';
  return `${p.name}${claimed} · ${role}${p.idle ? ' · idle' : ''} · ${who}`;
}

function clamp(i: number, length: number): number {
  return Math.max(0, Math.min(length, Math.floor(i)));
}

function isObject(v: unknown): boolean {
  return !!v && typeof v === 'object';
}
