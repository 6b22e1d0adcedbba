/**
 * Memory of a benchmarked process, measured from outside through the V8 inspector (the process is
 * started with `--inspect=127.0.0.1:0`): a full garbage collection first, then
 * `process.memoryUsage()`. So a per-socket figure counts what the relay keeps, not the garbage its
 * start-up and socket openings left behind. No code in the relay exists for the benchmark's sake.
 */
import WebSocket from 'ws';
import type { Proc } from './common.js';

export const INSPECT_ARGS = ['--inspect=127.0.0.1:0'];

export type Memory = { rss: number; heapUsed: number; external: number };

function inspectorUrl(p: Proc): string {
  const m = /Debugger listening on (ws:\/\/\S+)/.exec(p.output());
  if (!m?.[1]) throw new Error('the process was not started with --inspect (no "Debugger listening" line)');
  return m[1];
}

/** Collects garbage in the process, then reads its memory (bytes). */
export async function memoryAfterGc(p: Proc): Promise<Memory> {
  const ws = new WebSocket(inspectorUrl(p));
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  let id = 0;
  const call = (method: string, params: Record<string, unknown> = {}) =>
    new Promise<Record<string, any>>((resolve, reject) => {
      const my = ++id;
      const onMsg = (d: WebSocket.RawData) => {
        const msg = JSON.parse(String(d));
        if (msg.id !== my) return;
        ws.off('message', onMsg);
        if (msg.error) reject(new Error(msg.error.message));
        else resolve(msg.result);
      };
      ws.on('message', onMsg);
      ws.send(JSON.stringify({ id: my, method, params }));
    });
  try {
    await call('HeapProfiler.collectGarbage');
    await call('HeapProfiler.collectGarbage'); // a second pass frees what finalizers of the first released
    const r = await call('Runtime.evaluate', { expression: 'JSON.stringify(process.memoryUsage())', returnByValue: true });
    const u = JSON.parse(r.result.value as string) as { rss: number; heapUsed: number; external: number; arrayBuffers: number };
    return { rss: u.rss, heapUsed: u.heapUsed, external: u.external };
  } finally {
    ws.close();
  }
}
