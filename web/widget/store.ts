/**
 * What the widget remembers between reloads and tabs: localStorage of the host page's own origin,
 * keyed by tenant (two widgets of two tenants never share a session), no cookies at all. When storage
 * is unavailable (blocked, private mode) it lives in memory for the page's lifetime.
 */
export type Outgoing = { client_id: string; text: string };
export type Stored = {
  token?: string;
  sessionId?: string;
  /** Operator names seen in agent_joined frames, to label their messages after a reload. */
  agents?: Record<string, string>;
  /** Messages typed but not yet acknowledged as stored: sent again (same client_id) after a reconnect or a reload. */
  outbox?: Outgoing[];
  /** The highest sequence number the visitor has seen with the panel open (unread = the others' messages above it). */
  readSeq?: number;
};

export class Store {
  private mem: Stored = {};
  constructor(private readonly key: string) {}

  get(): Stored {
    try {
      const raw = localStorage.getItem(this.key);
      return raw ? (JSON.parse(raw) as Stored) : this.mem;
    } catch {
      return this.mem;
    }
  }

  set(patch: Partial<Stored>): void {
    const next = { ...this.get(), ...patch };
    this.mem = next;
    try {
      localStorage.setItem(this.key, JSON.stringify(next));
    } catch {
      /* memory only */
    }
  }

  clear(): void {
    this.mem = {};
    try {
      localStorage.removeItem(this.key);
    } catch {
      /* memory only */
    }
  }
}
