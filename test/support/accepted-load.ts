/**
 * Load that remembers exactly what the relay accepted, for the durability tests: signed test
 * callbacks (202), push challenges (200/202) and widget messages (an `ack` frame). Each client
 * behaves as a tenant's backend or the widget does when the relay is briefly unavailable: a 503, a
 * 429 or a network error is retried (a callback as a new request; a challenge under the same
 * instruction_id; a chat message under the same client_id, after reconnecting when the socket went
 * away). An answer of 500 fails the test. Only what was answered 2xx (or acked, or found accepted
 * after a lost answer) counts as accepted, with the time of the answer.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import WebSocket from 'ws';
import { challengeBody } from '../auth/support.js';
import { signed, type TenantCreds } from './client.js';
import { wsUrl } from './chat-client.js';
import { sleep } from './harness.js';

export type AcceptedCallback = { eventId: string; deliveryId: string; at: number };
export type AcceptedChallenge = { requestId: string; instructionId: string; at: number };
export type AcceptedMessage = { text: string; conversationId: string; seq: number; messageId: string; at: number };
export type AcceptedSudo = { eventId: string; instructionId: string; at: number };

export class Accepted {
  readonly callbacks = new Map<string, AcceptedCallback>(); // by event id
  readonly challenges = new Map<string, AcceptedChallenge>(); // by request id
  readonly messages = new Map<string, AcceptedMessage>(); // by text (unique per test)
  readonly sudo = new Map<string, AcceptedSudo>(); // by event id
  /** Answers that were not 2xx, by status (0: network error), and resends of a chat message. */
  readonly refusals = new Map<number | string, number>();

  refused(what: number | string): void {
    this.refusals.set(what, (this.refusals.get(what) ?? 0) + 1);
  }

  counts(): string {
    const sudo = this.sudo.size ? `, ${this.sudo.size} sudo dispatches` : '';
    return `${this.callbacks.size} callbacks, ${this.challenges.size} challenges, ${this.messages.size} messages${sudo}`;
  }

  refusalSummary(): string {
    return this.refusals.size ? [...this.refusals].map(([k, n]) => `${k || 'network error'}: ${n}`).join(', ') : 'none';
  }
}

const RETRYABLE = new Set([0, 429, 503]);
const GIVE_UP_MS = 30_000;

/** The last answer a retried call got, for its give-up message (status 0: a network error). */
function lastAnswer(status: number, body: unknown): string {
  return `${status}: ${JSON.stringify(body ?? null).slice(0, 300)}`;
}

/** One signed test callback, retried until the relay accepts it. */
export async function sendCallback(apiUrl: string, creds: TenantCreds, note: string, into: Accepted): Promise<AcceptedCallback> {
  const until = Date.now() + GIVE_UP_MS;
  for (;;) {
    const r = await signed(apiUrl, creds, 'POST', '/relay/send/test-callback', { note }).catch(() => null);
    const status = r?.status ?? 0;
    if (status === 202) {
      const a = { eventId: r!.body.data.event_id as string, deliveryId: r!.body.data.delivery_id as string, at: Date.now() };
      into.callbacks.set(a.eventId, a);
      return a;
    }
    assert.ok(RETRYABLE.has(status), `test-callback answered ${status}: ${JSON.stringify(r?.body)}`);
    into.refused(status);
    assert.ok(Date.now() < until, `test-callback "${note}" never accepted; last answer ${lastAnswer(status, r?.body)}`);
    await sleep(150);
  }
}

/**
 * One push challenge to a paired user, retried as a careful backend does: under one instruction_id,
 * so a try whose answer was lost (a network error) but which the relay accepted is not followed by
 * a second challenge. The relay refuses a used instruction_id (409); the backend then reads that
 * instruction's request (GET /relay/fetch/delivery-status) and takes it as the accepted one.
 */
export async function sendChallenge(apiUrl: string, creds: TenantCreds, userHash: string, into: Accepted): Promise<AcceptedChallenge> {
  const until = Date.now() + GIVE_UP_MS;
  const body = challengeBody(userHash);
  const accept = (requestId: string): AcceptedChallenge => {
    const a = { requestId, instructionId: body.instruction_id, at: Date.now() };
    into.challenges.set(a.requestId, a);
    return a;
  };
  let tried = false;
  for (;;) {
    const r = await signed(apiUrl, creds, 'POST', '/relay/send/auth-challenge', body).catch(() => null);
    const status = r?.status ?? 0;
    if (status === 200 || status === 202) {
      assert.equal(r!.body.data.instruction_id, body.instruction_id);
      return accept(r!.body.data.request_id as string);
    }
    if (status === 409 && tried && /already used/.test(JSON.stringify(r?.body))) {
      const found = await signed(apiUrl, creds, 'GET', `/relay/fetch/delivery-status?instruction_id=${body.instruction_id}`).catch(
        () => null,
      );
      if (found?.status === 200) return accept(found.body.data.request_id as string);
      into.refused('409 then unreadable');
    } else {
      assert.ok(RETRYABLE.has(status), `auth-challenge answered ${status}: ${JSON.stringify(r?.body)}`);
      into.refused(status);
    }
    tried = true;
    assert.ok(Date.now() < until, `auth-challenge never accepted; last answer ${lastAnswer(status, r?.body)}`);
    await sleep(150);
  }
}

/**
 * One sudo dispatch to a paired person, retried as a careful backend does: under one idempotency key
 * and one body, so a retry after a lost answer gets the same event (200), never a second one. A 409
 * "still being created" is the first try still running: retried too.
 */
export async function sendSudo(apiUrl: string, creds: TenantCreds, linkId: string, into: Accepted): Promise<AcceptedSudo> {
  const until = Date.now() + GIVE_UP_MS;
  const key = randomBytes(8).toString('hex');
  const body = {
    event_type: 'sudo_action',
    action_type: 'deletion',
    instruction_id: `ins-${key}`,
    idempotency_key: `idem-${key}`,
    expected_action: 'delete_account',
    title: 'Delete the account',
    relay_user_linked_id_list: [linkId],
    data_access_type: 'static',
    data_items: [{ key: 'account', title: 'Account', value: `ACC-${key}`, data_type: 'ENTITY_REFERENCE' }],
    ttl_seconds: 900,
  };
  for (;;) {
    const r = await signed(apiUrl, creds, 'POST', '/relay/sudo/dispatch', body).catch(() => null);
    const status = r?.status ?? 0;
    if (status === 201 || status === 200) {
      const a = { eventId: r!.body.data.event_id as string, instructionId: body.instruction_id, at: Date.now() };
      const earlier = into.sudo.get(a.eventId);
      assert.ok(!earlier || earlier.instructionId === a.instructionId, 'one event per dispatch');
      into.sudo.set(a.eventId, a);
      return a;
    }
    const stillCreating = status === 409 && /still being created/.test(JSON.stringify(r?.body));
    assert.ok(RETRYABLE.has(status) || stillCreating, `sudo/dispatch answered ${status}: ${JSON.stringify(r?.body)}`);
    into.refused(status);
    assert.ok(Date.now() < until, `sudo/dispatch never accepted; last answer ${lastAnswer(status, r?.body)}`);
    await sleep(150);
  }
}

type Frame = Record<string, any>;

/**
 * A visitor's widget socket as widget.js drives it: a message goes out with its client_id and counts
 * once acked; an error frame, a lost socket or a missing ack means "send it again under the same
 * client_id" (after reconnecting with last_seq), which the relay must not store twice.
 */
export class WidgetVisitor {
  private ws: WebSocket | null = null;
  private waiters: ((f: Frame) => void)[] = [];
  private lastSeq = 0;
  conversationId: string | null = null;

  constructor(
    private readonly apiUrl: string,
    private readonly token: string,
    private readonly origin: string,
  ) {}

  private async socket(): Promise<WebSocket> {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) return this.ws;
    this.ws?.terminate();
    for (;;) {
      const ws = new WebSocket(wsUrl(this.apiUrl, '/api/v1/ws/widget', { token: this.token, last_seq: this.lastSeq }), {
        origin: this.origin,
      });
      ws.on('message', (d) => {
        const f = JSON.parse(String(d)) as Frame;
        if (f.type === 'message' && typeof f.message?.seq === 'number') this.lastSeq = Math.max(this.lastSeq, f.message.seq as number);
        for (const w of [...this.waiters]) w(f);
      });
      const welcomed = await new Promise<boolean>((resolve) => {
        const t = setTimeout(() => resolve(false), 5000);
        ws.once('error', () => (clearTimeout(t), resolve(false)));
        ws.once('close', () => (clearTimeout(t), resolve(false)));
        const w = (f: Frame) => f.type === 'welcome' && (clearTimeout(t), this.waiters.splice(this.waiters.indexOf(w), 1), resolve(true));
        this.waiters.push(w);
      });
      if (welcomed) {
        ws.on('error', () => undefined);
        this.ws = ws;
        return ws;
      }
      ws.terminate();
      await sleep(200);
    }
  }

  /** Sends `text` (its own client_id) until it is acked; returns the ack. */
  async say(text: string, into: Accepted): Promise<AcceptedMessage> {
    const until = Date.now() + GIVE_UP_MS;
    // What each attempt got, for the failure message: the cause is then in the report itself.
    const got: string[] = [];
    for (let attempt = 0; ; attempt++) {
      assert.ok(Date.now() < until, `message "${text}" never acked in ${GIVE_UP_MS} ms; its attempts got: ${got.slice(-12).join('; ')}`);
      if (attempt > 0) into.refused('chat resend');
      const connectStart = Date.now();
      const ws = await this.socket();
      if (Date.now() - connectStart > 1000) got.push(`a socket after ${Date.now() - connectStart} ms`);
      const answer = new Promise<Frame | null>((resolve) => {
        const done = (f: Frame | null) => {
          clearTimeout(t);
          ws.off('close', onClose);
          this.waiters.splice(this.waiters.indexOf(w), 1);
          resolve(f);
        };
        const w = (f: Frame) => (f.type === 'ack' || f.type === 'error') && f.client_id === text && done(f);
        const onClose = () => done(null);
        const t = setTimeout(() => done(null), 5000);
        this.waiters.push(w);
        ws.once('close', onClose);
      });
      ws.send(JSON.stringify({ type: 'message', text, client_id: text }));
      const f = await answer;
      if (f?.type === 'ack') {
        const a = {
          text,
          conversationId: f.conversation_id as string,
          seq: f.seq as number,
          messageId: f.message_id as string,
          at: Date.now(),
        };
        this.conversationId = a.conversationId;
        into.messages.set(text, a);
        return a;
      }
      got.push(f ? `error ${JSON.stringify(f).slice(0, 200)}` : 'no answer in 5 s or socket closed');
      if (f) assert.ok(f.status !== 500, `message "${text}" answered 500: ${JSON.stringify(f)}`);
      else this.ws?.terminate(); // no answer: reconnect, as the widget does
      await sleep(150);
    }
  }

  close(): void {
    this.ws?.terminate();
  }
}

/** Runs `task(i)` for i in [from, to) with `concurrency` in flight. */
export async function inParallel(from: number, to: number, concurrency: number, task: (i: number) => Promise<unknown>): Promise<void> {
  let next = from;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < to) await task(next++);
    }),
  );
}
