/**
 * No account enumeration by timing: signing in with a wrong password takes the same time for an
 * address that has an account and one that has none (the unknown path checks the password against a
 * throw-away argon2id hash: platform/passwords.ts). 50 tries of each, interleaved so both see the
 * same machine load; their medians must be within 10% of each other, and the answers identical.
 * A leak shows in every round; a burst of load elsewhere on the machine can skew one round of 50: a
 * round over 10% is measured again (at most ROUNDS rounds), and one within 10% settles it.
 */
import assert from 'node:assert/strict';
import { newEmail, signUp, startConsoleWorld, type ConsoleWorld } from './support.js';

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};

const ROUNDS = 3;
/** The most two medians may differ by, as a share of the larger. */
const BOUND = 0.1;

/** Rounds of n interleaved tries of each until one has medians within BOUND; every round's gap, in order. */
async function compare(w: ConsoleWorld, label: string, known: () => Promise<unknown>, unknown: () => Promise<unknown>, n = 50) {
  const gaps: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const times: Record<'known' | 'unknown', number[]> = { known: [], unknown: [] };
    for (let i = 0; i < n; i++) {
      const order: ['known' | 'unknown', () => Promise<unknown>][] = [
        ['known', known],
        ['unknown', unknown],
      ];
      if (i % 2) order.reverse();
      for (const [kind, run] of order) {
        const t0 = process.hrtime.bigint();
        await run();
        times[kind].push(Number(process.hrtime.bigint() - t0) / 1e6);
      }
    }
    const k = median(times.known);
    const u = median(times.unknown);
    console.log(`      ${label} medians over ${n} tries: known ${k.toFixed(1)} ms, unknown ${u.toFixed(1)} ms`);
    gaps.push(Math.abs(k - u) / Math.max(k, u));
    if (gaps.at(-1)! <= BOUND) break;
  }
  return gaps;
}

const percent = (gaps: number[]) => gaps.map((g) => `${(g * 100).toFixed(0)}%`).join(', ');

describe('console sign-in timing: known and unknown addresses', function () {
  this.timeout(120_000);
  let w: ConsoleWorld;
  before(async () => {
    w = await startConsoleWorld('console_timing', {
      CONSOLE_LIMIT_PER_ADDRESS: '1000',
      CONSOLE_LIMIT_PER_ADDRESS_ALL_IPS: '1000',
      CONSOLE_LIMIT_PER_IP: '1000',
    });
  });
  after(async () => {
    await w?.stop();
  });

  it('a wrong password for a known address and any password for an unknown one: same answer, medians within 10% over 50 tries', async () => {
    const known = (await signUp(w)).email;
    const unknown = newEmail('nobody');
    const body = (email: string) => ({ email, password: 'not the password, sorry' });
    for (let i = 0; i < 3; i++)
      await Promise.all([w.api('POST', '/login', { body: body(known) }), w.api('POST', '/login', { body: body(unknown) })]); // warm-up
    const answers = new Set<string>();
    const login = async (email: string) => {
      const r = await w.api('POST', '/login', { body: body(email) });
      answers.add(JSON.stringify([r.status, r.body.message, r.body.error.code]));
    };
    const gaps = await compare(
      w,
      'login',
      () => login(known),
      () => login(unknown),
    );
    assert.equal(answers.size, 1, `one answer for both: ${[...answers].join(' / ')}`);
    assert.ok(gaps.at(-1)! <= BOUND, `login: known and unknown addresses differ by more than 10% in every round (${percent(gaps)})`);
  });

  it('registration answers an address that has an account as fast as a new one (medians within 10% over 50 tries)', async () => {
    const known = (await signUp(w)).email;
    const answers = new Set<string>();
    const reg = async (email: string) => {
      const r = await w.api('POST', '/register', {
        body: { email, password: 'a passphrase for timing', display_name: 'T', organization_name: 'T' },
      });
      answers.add(JSON.stringify([r.status, r.body.message, Object.keys(r.body.data).sort()]));
    };
    const gaps = await compare(
      w,
      'register',
      () => reg(known),
      () => reg(newEmail('fresh')),
    );
    assert.equal(answers.size, 1, [...answers].join(' / '));
    assert.ok(gaps.at(-1)! <= BOUND, `register: known and new addresses differ by more than 10% in every round (${percent(gaps)})`);
  });
});
