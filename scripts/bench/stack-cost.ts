/**
 * CPU per request of the API process for a few routes that never reach Redis, against the bare Koa
 * server: what the relay's own middleware stack costs (bisecting where the signed route's time goes).
 *   bash scripts/with-services.sh npx tsx scripts/bench/stack-cost.ts
 */
import { execFileSync } from 'node:child_process';
import { cpuSeconds } from './cpu.js';
import { benchEnv, cleanUp, startApi, startHelper } from './common.js';
import { fileURLToPath } from 'node:url';

const POST_LUA = fileURLToPath(new URL('./post-json.lua', import.meta.url));
const env = benchEnv('stackcost');
const api = await startApi(env);
const bare = await startHelper('scripts/bench/bare-server.ts');
function wrk(url: string, secs = 5, extra: string[] = []) {
  const out = execFileSync('wrk', ['-t1', '-c50', `-d${secs}s`, ...extra, url]).toString();
  return Number(out.match(/(\d+) requests in/)![1]);
}
for (const [name, url, pid] of [
  ['bare GET /', `${bare.url}/`, bare.proc.pid!],
  ['api GET /healthz', `${api.url}/healthz`, api.proc.pid!],
  ['api GET /api/v1/nope (404 envelope)', `${api.url}/api/v1/nope`, api.proc.pid!],
  ['api POST /api/v1/relay/send/test-callback unsigned (401)', `${api.url}/api/v1/relay/send/test-callback`, api.proc.pid!],
] as const) {
  wrk(url, 2, name.includes('POST') ? ['-s', POST_LUA] : []);
  const c0 = cpuSeconds(pid);
  const n = wrk(url, 5, name.includes('POST') ? ['-s', POST_LUA] : []);
  console.log(`${name}: ${((1e6 * (cpuSeconds(pid) - c0)) / n).toFixed(0)} µs CPU/request, ${(n / 5).toFixed(0)} req/s`);
}
await api.stop();
await bare.stop();
await cleanUp(env);
process.exit(0);
