// Failed logins, counted per account name and per client address. A few failures are free (typos); each one past
// them makes that account or address wait before its next attempt, twice as long each time (1 s, 2 s, 4 s ... up to
// 15 min), and an hour without a failure forgets it. While an account or address waits, no password is checked at
// all, so a guesser learns nothing from trying through the wait. Unknown account names are counted like known ones,
// so the answers do not tell which accounts exist. A success forgets the account's failures, not the address's.
const FIRST_WAIT_MS = 1000;
const MAX_WAIT_MS = 15 * 60_000;
const FORGET_MS = 60 * 60_000;
const MAX_ENTRIES = 100_000; // past this the oldest records go first, so a spray of names cannot grow memory

interface Failures {
  count: number;
  waitUntil: number;
  last: number;
}

export interface LoginWait {
  ms: number;
  by: 'account' | 'address';
}

class FailureCounter {
  private readonly entries = new Map<string, Failures>();
  constructor(private readonly free: number) {}

  waitMs(key: string, now: number): number {
    const f = this.current(key, now);
    return f ? Math.max(0, f.waitUntil - now) : 0;
  }

  /** Counts a failure; returns how long the key must now wait (0 while failures are still free). */
  fail(key: string, now: number): number {
    const f = this.current(key, now) ?? { count: 0, waitUntil: 0, last: now };
    f.count++;
    f.last = now;
    const over = f.count - this.free;
    f.waitUntil = over > 0 ? now + Math.min(MAX_WAIT_MS, FIRST_WAIT_MS * 2 ** Math.min(over - 1, 20)) : 0;
    this.entries.delete(key); // re-inserted last: the map stays ordered by last failure
    this.entries.set(key, f);
    for (const oldest of this.entries.keys()) {
      if (this.entries.size <= MAX_ENTRIES) break;
      this.entries.delete(oldest);
    }
    return Math.max(0, f.waitUntil - now);
  }

  forget(key: string): void {
    this.entries.delete(key);
  }

  private current(key: string, now: number): Failures | undefined {
    const f = this.entries.get(key);
    if (f && now - f.last > FORGET_MS) {
      this.entries.delete(key);
      return undefined;
    }
    return f;
  }
}

export class LoginThrottle {
  private readonly accounts: FailureCounter;
  private readonly addresses: FailureCounter;
  constructor(
    freePerAccount: number,
    freePerAddress: number,
    private readonly now: () => number = Date.now,
  ) {
    this.accounts = new FailureCounter(freePerAccount);
    this.addresses = new FailureCounter(freePerAddress);
  }

  /** How long this login must wait before its password may be checked, or null if it may be checked now. */
  waitFor(account: string, address: string): LoginWait | null {
    const now = this.now();
    return this.longest(this.accounts.waitMs(account.toLowerCase(), now), this.addresses.waitMs(address, now));
  }

  /** Records a failed login; returns the wait it starts, if it starts one. */
  failed(account: string, address: string): LoginWait | null {
    const now = this.now();
    return this.longest(this.accounts.fail(account.toLowerCase(), now), this.addresses.fail(address, now));
  }

  succeeded(account: string): void {
    this.accounts.forget(account.toLowerCase());
  }

  private longest(account: number, address: number): LoginWait | null {
    if (account <= 0 && address <= 0) return null;
    return address > account ? { ms: address, by: 'address' } : { ms: account, by: 'account' };
  }
}
