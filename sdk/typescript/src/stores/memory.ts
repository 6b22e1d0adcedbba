/**
 * In-process state: for tests and single-process development only (not shared between processes,
 * lost on restart). Node runs one request's synchronous code at a time, so each step is atomic.
 */
import type { KV } from './kv.js';

export class MemoryKV implements KV {
  private readonly data = new Map<string, { value: string; expires: number }>();

  private live(key: string): string | null {
    const v = this.data.get(key);
    if (!v) return null;
    if (v.expires <= performance.now()) {
      this.data.delete(key);
      return null;
    }
    return v.value;
  }

  private sweep(): void {
    if (this.data.size <= 10_000) return;
    const now = performance.now();
    for (const [k, v] of this.data) if (v.expires <= now) this.data.delete(k);
  }

  async get(key: string): Promise<string | null> {
    return this.live(key);
  }

  async putNew(key: string, value: string, ttlSeconds: number): Promise<boolean> {
    this.sweep();
    if (this.live(key) !== null) return false;
    this.data.set(key, { value, expires: performance.now() + ttlSeconds * 1000 });
    return true;
  }

  async swap(key: string, old: string, value: string, ttlSeconds: number): Promise<boolean> {
    if (this.live(key) !== old) return false;
    this.data.set(key, { value, expires: performance.now() + ttlSeconds * 1000 });
    return true;
  }

  async delete(key: string): Promise<void> {
    this.data.delete(key);
  }

  async close(): Promise<void> {}
}
