/**
 * The small key-value contract the SDK's state lives on (memory, Redis). Values are JSON strings with
 * a time to live. `swap` is the one atomic step (compare-and-set of the whole value): every state
 * change of the stores is a read, a pure decision and a swap, retried when someone else changed the
 * value in between — the same contract as the Python SDK's, over the same keys and records, so a
 * Python and a Node backend of one tenant can share one Redis.
 */
export interface KV {
  get(key: string): Promise<string | null>;
  /** Writes only when the key does not exist; true when it wrote. */
  putNew(key: string, value: string, ttlSeconds: number): Promise<boolean>;
  /** Replaces `old` with `value` atomically; false when the stored value is not `old` (or is gone). */
  swap(key: string, old: string, value: string, ttlSeconds: number): Promise<boolean>;
  delete(key: string): Promise<void>;
  close(): Promise<void>;
}
