/**
 * The two-call sudo protocol and the ApprovalEvent, framework-neutral (the Koa and Express layers
 * in http/ only carry requests to it). The behaviour, the refusal bodies and the stores are the
 * Python SDK's:
 *
 * 1. A protected call without X-Sudo-Instruction-Key: a fresh `instruction_id` is written to the
 *    SudoInstructionStore (pending, with who, which action and a fingerprint of what the user is
 *    shown), `sendAuthChallenge({ approvalEvent: true })` pushes it, and the caller gets
 *    `403 {"error": "SUDO_INSTRUCTION_KEY_REQUIRED", "instruction_id": …}`.
 * 2. The relay's signed ApprovalEvent reaches the callback path: the instruction becomes
 *    `validated` (or `denied` / `expired` / `cancelled`), once. For a typed confirmation (`totp`,
 *    `goldenNumber`) an approval only leads to `awaiting_response`: the code must then be typed on
 *    the page and posted to `/_bloonio/submit-response` by the session that got the 403 (the
 *    instruction keeps a hash of it), and only the relay's `matched: true` makes it `validated`.
 * 3. The re-call with `X-Sudo-Instruction-Key: <instruction_id>` passes once, if it is the same
 *    user, action and content; anything else gets 403 with a reason, and nothing runs.
 *
 * Quorum (`sudo_group_action`) and cross-organisation (`sudo_delegated_action`) flows cannot be
 * re-called by one user: `requestQuorum` keeps the mutation in the PendingOpStore, and the
 * ApprovalEvent that reaches the quorum replays it server-side, once, through the handler
 * registered with `onApproved`.
 */
import { createHash, randomBytes, randomInt } from 'node:crypto';
import type { CallbackEvent } from '../callback-events.js';
import type { RelayClient } from '../client.js';
import { ActionType, SudoActionType, SudoEventType, validationFields, type FieldInput, type ValidationField } from '../enums.js';
import { ConflictError, GoneError, NotFoundError, RateLimitedError, RelayConnectionError, RelayError } from '../errors.js';
import { REPLAY_WINDOW_SECONDS } from '../signing.js';
import { bindingOf, isTyped, newInstruction, sameBinding, type Instruction, type SudoInstructionStore } from '../stores/instructions.js';
import { newPendingOp, type PendingOp, type PendingOpStore } from '../stores/pending-ops.js';

export const INSTRUCTION_HEADER = 'X-Sudo-Instruction-Key';
export const APPROVAL_EVENT_TYPE = 'sudo.approval_event';
export const KEY_REQUIRED = 'SUDO_INSTRUCTION_KEY_REQUIRED';
export const KEY_PENDING = 'SUDO_INSTRUCTION_PENDING';
export const KEY_INVALID = 'SUDO_INSTRUCTION_KEY_INVALID';
export const RESPONSE_REQUIRED = 'SUDO_RESPONSE_REQUIRED';
const FINAL = new Set(['approved', 'denied', 'expired', 'cancelled']);

/** A guard's answer instead of the handler: the framework layers send `status`, JSON `body` and `headers`. */
export class SudoResponse extends Error {
  override name = 'SudoResponse';
  constructor(
    readonly status: number,
    readonly body: Record<string, unknown>,
    readonly headers: Record<string, string> = {},
  ) {
    super(String(body.error ?? 'SUDO'));
  }
}

/** A value, or a function of the request (Koa's `ctx`, Express's `req`), possibly async. */
export type Value<Req, T> = T | ((req: Req) => T | Promise<T>);

/** The arguments of `sudoRequired`, the same for Koa and Express (and the Python SDK's, in camelCase). */
export interface SudoOptions<Req = never> {
  /** What is being approved (it must match on the re-call). */
  expectedAction: string;
  /** The signed-in user's `user_socket_hash`; nothing → 401 SUDO_USER_UNKNOWN. */
  userSocketHash: Value<Req, string | null | undefined>;
  /** The device's heading, e.g. "Confirm the transfer". */
  title: Value<Req, string>;
  /** How the user confirms (default `localAuth`). */
  customType?: SudoActionType;
  /** What the user sees and approves; a re-call showing other values is refused (`mismatch`). */
  fields?: Value<Req, readonly FieldInput[] | null | undefined>;
  description?: Value<Req, string | null | undefined>;
  subtitle?: Value<Req, string | null | undefined>;
  backendUrl?: Value<Req, string | null | undefined>;
  numbers?: Value<Req, readonly number[] | null | undefined>;
  expectedNumber?: Value<Req, number | null | undefined>;
  /** Seconds the device may answer (default 180); the re-call window (the store's) comes after. */
  ttlSeconds?: number;
}

export const SUBMIT_PATH = '/_bloonio/submit-response';

export const newInstructionId = () => `sudo_${randomBytes(16).toString('hex')}`;

/**
 * What the user approves, canonically hashed (the Python SDK's exact bytes, so both SDKs agree): the
 * re-call must show the same amount, beneficiary…
 */
export function fingerprint(
  userSocketHash: string,
  expectedAction: string,
  fields: readonly Pick<ValidationField, 'key' | 'value'>[],
): string {
  const canon = JSON.stringify([userSocketHash, expectedAction, fields.map((f) => [f.key, f.value])]);
  return createHash('sha256').update(canon, 'utf8').digest('hex');
}

interface Resolved {
  userSocketHash: string;
  title: string;
  fields: ValidationField[];
  description?: string;
  subtitle?: string;
  backendUrl?: string;
  numbers?: number[];
  expectedNumber?: number;
}

const valueOf = async <Req, T>(v: Value<Req, T> | undefined, req: Req): Promise<T | undefined> =>
  typeof v === 'function' ? await (v as (r: Req) => T | Promise<T>)(req) : v;
const opt = <T>(v: T | null | undefined): T | undefined => (v === null ? undefined : v);

async function resolveSpec<Req>(spec: SudoOptions<Req>, req: Req): Promise<Resolved> {
  const uh = await valueOf(spec.userSocketHash, req);
  if (!uh)
    throw new SudoResponse(401, { error: 'SUDO_USER_UNKNOWN', message: 'No user_socket_hash for this request (is the user signed in?).' });
  const numbers = opt(await valueOf(spec.numbers, req));
  return {
    userSocketHash: String(uh),
    title: String(await valueOf(spec.title, req)),
    fields: validationFields(await valueOf(spec.fields, req)),
    description: opt(await valueOf(spec.description, req)),
    subtitle: opt(await valueOf(spec.subtitle, req)),
    backendUrl: opt(await valueOf(spec.backendUrl, req)),
    numbers: numbers ? [...numbers] : undefined,
    expectedNumber: opt(await valueOf(spec.expectedNumber, req)),
  };
}

/** A random integer in [lo, hi] from the CSPRNG. */
const randomIn = (lo: number, hi: number) => lo + randomInt(hi - lo + 1);

/**
 * goldenNumber as number matching: the page shows one number, the device offers it among others and
 * the relay checks the pick (`expectedNumber`: a wrong pick is a denial). Without `numbers`, three
 * distinct two-digit numbers; without `expectedNumber`, one of them at random. Never chosen by the
 * browser, so a person approving blindly has one chance in `numbers.length`.
 */
export function goldenNumbers(numbers?: readonly number[], expected?: number): { numbers: number[]; expectedNumber: number } {
  const list = numbers ? [...numbers] : [];
  if (expected !== undefined && !list.includes(expected)) list.push(expected);
  while (list.length < 3) {
    const n = randomIn(10, 99);
    if (!list.includes(n)) list.push(n);
  }
  const expectedNumber = expected ?? (list[randomInt(list.length)] as number);
  // Shuffled (Fisher-Yates), so the expected number's place tells nothing.
  for (let i = list.length - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    [list[i], list[j]] = [list[j] as number, list[i] as number];
  }
  return { numbers: list, expectedNumber };
}

/** How the user confirms: the numbers to pick among go with goldenNumber, and only with it (the relay's rule). */
function confirmation(customType: SudoActionType, r: Resolved) {
  if (customType === SudoActionType.GOLDEN_NUMBER) {
    return { customType, ...goldenNumbers(r.numbers, r.expectedNumber) };
  }
  if (r.numbers || r.expectedNumber !== undefined) {
    throw new TypeError(`sudoRequired: numbers / expectedNumber go with customType goldenNumber, not ${customType}`);
  }
  return { customType };
}

const MESSAGES: Record<string, string> = {
  unknown: 'Unknown or expired instruction key: call again without it to start a new approval.',
  denied: 'The user denied this instruction.',
  expired: 'This instruction expired before it was approved.',
  cancelled: 'This instruction was cancelled.',
  reused: 'This instruction key was already used.',
  mismatch: 'This instruction key was issued for another user, action or content.',
};

function refused(reason: string, instructionId: string): SudoResponse {
  if (reason === 'awaiting_response') {
    return new SudoResponse(403, {
      error: RESPONSE_REQUIRED,
      instruction_id: instructionId,
      message: `Approved on the device; now post the code to ${SUBMIT_PATH} from this session, then call again.`,
    });
  }
  if (reason === 'pending') {
    return new SudoResponse(403, {
      error: KEY_PENDING,
      instruction_id: instructionId,
      message: 'Not approved yet: try again once the user has approved on their device.',
    });
  }
  return new SudoResponse(403, { error: KEY_INVALID, reason, instruction_id: instructionId, message: MESSAGES[reason] ?? 'Refused.' });
}

/** The relay refused or could not be reached: the caller learns what to do, never a 500. */
export function relayFailure(e: unknown): SudoResponse | null {
  if (e instanceof NotFoundError || e instanceof ConflictError) {
    return new SudoResponse(403, { error: 'SUDO_NO_DEVICE', message: 'This user has no paired device to approve with.', code: e.code });
  }
  if (e instanceof RateLimitedError) {
    return new SudoResponse(
      429,
      { error: 'SUDO_RATE_LIMITED', message: e.relayMessage, code: e.code },
      { 'Retry-After': String(Math.trunc(e.retryAfter ?? 1)) },
    );
  }
  if (e instanceof RelayError) {
    return new SudoResponse(502, { error: 'SUDO_RELAY_ERROR', code: e.code, request_id: e.requestId, message: e.relayMessage });
  }
  if (e instanceof RelayConnectionError) {
    return new SudoResponse(502, { error: 'SUDO_RELAY_UNAVAILABLE', message: 'The Auth Relay could not be reached.' });
  }
  return null;
}

export type Replay<P = Record<string, unknown>> = (op: PendingOp<P>) => unknown;

export interface QuorumOptions {
  title: string;
  /** Default `sudo_group_action`; `sudo_delegated_action` with `grantorTenantId`. */
  eventType?: Exclude<SudoEventType, 'auth_challenge'>;
  /** Default `update`. */
  actionType?: ActionType;
  fields?: readonly FieldInput[];
  relayGroupLinkedIdList?: string[];
  relayUserLinkedIdList?: string[];
  grantorTenantId?: string;
  description?: string;
  customType?: SudoActionType;
  ttlSeconds?: number;
  requestedBy?: Record<string, unknown>;
}

/** What `requestQuorum` answers, to send with 202 (the Python SDK's body, as your front end reads it). */
export interface QuorumAccepted {
  status: 'pending_approval';
  instruction_id: string;
  event_id: string | null;
  expires_at: string | null;
}

/** What the callback path answers for one verified ApprovalEvent. */
export interface ApprovalOutcome {
  received: true;
  applied: boolean;
  reason: string;
}

export interface Logger {
  info?(message: string): void;
  warn?(message: string): void;
  error?(message: string, err?: unknown): void;
}

export const defaultLogger: Logger = {
  warn: (m) => console.warn(`bloonio: ${m}`),
  error: (m, err) => console.error(`bloonio: ${m}`, err ?? ''),
};

export class SudoCore {
  private readonly replays = new Map<string, Replay<never>>();

  constructor(
    readonly client: RelayClient,
    readonly store: SudoInstructionStore,
    readonly pendingOps: PendingOpStore,
    readonly log: Logger = defaultLogger,
  ) {}

  // ----- single-user flow -----

  /**
   * Resolves when the call may run (with the consumed instruction); throws SudoResponse otherwise.
   * `sessionKey` is the caller's own session (the framework layer derives it; default: the user):
   * a new instruction keeps its hash, and only that session may submit its typed code.
   */
  async guard<Req>(spec: SudoOptions<Req>, req: Req, key: string | undefined | null, sessionKey?: string | null): Promise<Instruction> {
    const r = await resolveSpec(spec, req);
    const fp = fingerprint(r.userSocketHash, spec.expectedAction, r.fields);
    if (key) {
      const d = await this.store.consume(key, { userSocketHash: r.userSocketHash, expectedAction: spec.expectedAction, fingerprint: fp });
      if (!d.ok || !d.record) throw refused(d.reason, key);
      return d.record;
    }
    const ttlSeconds = spec.ttlSeconds ?? 180;
    const how = confirmation(spec.customType ?? SudoActionType.LOCAL_AUTH, r);
    const rec = newInstruction({
      instructionId: newInstructionId(),
      userSocketHash: r.userSocketHash,
      expectedAction: spec.expectedAction,
      fingerprint: fp,
      customType: how.customType,
      binding: bindingOf(sessionKey || `user:${r.userSocketHash}`),
    });
    await this.store.create(rec, ttlSeconds);
    try {
      await this.client.sendAuthChallenge({
        ...how,
        userSocketHash: r.userSocketHash,
        instructionId: rec.instructionId,
        expectedAction: spec.expectedAction,
        backendUrl: r.backendUrl,
        description: r.description,
        ttlSeconds,
        display: { title: r.title, subtitle: r.subtitle, fields: r.fields },
        approvalEvent: true,
      });
    } catch (e) {
      const answer = relayFailure(e);
      if (!answer) throw e;
      await this.store.discard(rec.instructionId);
      throw answer;
    }
    // goldenNumber: the number the page shows, which the person must pick on the device.
    const shown = 'expectedNumber' in how ? { number: how.expectedNumber } : {};
    throw new SudoResponse(403, { error: KEY_REQUIRED, instruction_id: rec.instructionId, ...shown });
  }

  // ----- quorum / cross-organisation flow -----

  /** Registers the server-side replay of `action`'s stored mutation (called once, when approved). */
  onApproved<P = Record<string, unknown>>(action: string, replay: Replay<P>): void {
    this.replays.set(action, replay as Replay<never>);
  }

  /** Stores the mutation and dispatches the sudo event; answer the caller 202 with the result. */
  async requestQuorum(action: string, payload: Record<string, unknown>, o: QuorumOptions): Promise<QuorumAccepted> {
    if (!this.replays.has(action)) {
      throw new TypeError(`no replay handler registered for "${action}": register one with onApproved("${action}", …)`);
    }
    const op = newPendingOp({ opId: newInstructionId(), action, payload, requestedBy: o.requestedBy });
    await this.pendingOps.create(op);
    const items = validationFields(o.fields);
    let data: { eventId: string; expiresAt: string };
    try {
      data = await this.client.sudoDispatch({
        eventType: o.eventType ?? SudoEventType.SUDO_GROUP_ACTION,
        actionType: o.actionType ?? ActionType.UPDATE,
        instructionId: op.opId,
        expectedAction: action,
        title: o.title,
        description: o.description,
        customType: o.customType,
        fields: items,
        relayGroupLinkedIdList: o.relayGroupLinkedIdList,
        relayUserLinkedIdList: o.relayUserLinkedIdList,
        grantorTenantId: o.grantorTenantId,
        dataAccessType: 'static',
        dataItems: items,
        ttlSeconds: o.ttlSeconds,
        idempotencyKey: op.opId,
      });
    } catch (e) {
      // Nothing will ever approve it: leave no pending op behind.
      await this.pendingOps.discard(op.opId);
      throw e;
    }
    return { status: 'pending_approval', instruction_id: op.opId, event_id: data.eventId ?? null, expires_at: data.expiresAt ?? null };
  }

  // ----- the ApprovalEvent -----

  /** Applies one verified ApprovalEvent. Throws SudoResponse(401) for a replayed signature. */
  async handleApprovalEvent(ev: CallbackEvent): Promise<ApprovalOutcome> {
    if (!(await this.store.firstTime('sig', ev.signature, REPLAY_WINDOW_SECONDS))) {
      throw new SudoResponse(401, { error: 'REPLAY_DETECTED', message: 'This callback signature was already used.' });
    }
    if (ev.eventType !== APPROVAL_EVENT_TYPE) {
      this.log.info?.(`ignoring callback ${ev.eventId} of type ${ev.eventType} at the sudo callback path`);
      return { received: true, applied: false, reason: 'not_an_approval_event' };
    }
    const d = ev.data;
    const iid = String(d.instructionId ?? '');
    const status = String(d.status ?? '');
    if (!FINAL.has(status)) return { received: true, applied: false, reason: 'not_final' };
    const r = await this.store.resolve(iid, status, {
      userSocketHash: d.userSocketHash,
      expectedAction: d.expectedAction,
      eventId: d.eventId,
    });
    if (r.reason !== 'unknown') return { received: true, applied: r.ok, reason: r.reason };
    const c = await this.pendingOps.claim(iid, status, Array.isArray(d.approvals) ? d.approvals : [], d.eventId ?? null);
    if (c.reason !== 'replaying' || !c.record) return { received: true, applied: c.ok, reason: c.reason };
    const op = c.record;
    const replay = this.replays.get(op.action);
    try {
      if (!replay) throw new Error(`no replay handler registered for "${op.action}"`);
      const result = await replay(op as never);
      await this.pendingOps.finish(op.opId, { result: result ?? null });
    } catch (e) {
      // The mutation failed: recorded on the op, and the relay need not retry.
      this.log.error?.(`replay of ${op.opId} (${op.action}) failed`, e);
      await this.pendingOps.finish(op.opId, { error: e instanceof Error ? `${e.name}: ${e.message}` : String(e) });
      return { received: true, applied: true, reason: 'failed' };
    }
    return { received: true, applied: true, reason: 'done' };
  }

  // ----- submit-response (totp / goldenNumber typed on the tenant's page) -----

  /**
   * Forwards `{instruction_id, response}` to the relay (which compares it in constant time and counts
   * the tries), for a totp / goldenNumber instruction of this session only (`sessionKey`: the same
   * identity the guard bound it to; none, or another, is refused as unknown). The relay's
   * `matched: true` for this instruction, once the device approved, makes it `validated`; anything
   * else leaves it as it was, and the re-call stays refused.
   */
  async submitResponse(body: unknown, userSocketHash?: string | null, sessionKey?: string | null): Promise<Record<string, unknown>> {
    const b = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
    if (typeof b.instruction_id !== 'string' || b.response === undefined || b.response === null) {
      throw new SudoResponse(422, { error: 'VALIDATION_FAILED', message: 'Give instruction_id and response.' });
    }
    const iid = b.instruction_id;
    const rec = await this.store.get(iid);
    const key = sessionKey || (userSocketHash ? `user:${userSocketHash}` : null);
    const binding = key ? bindingOf(key) : null;
    if (!rec || (userSocketHash != null && rec.userSocketHash !== userSocketHash) || !sameBinding(rec.binding, binding)) {
      throw new SudoResponse(404, { error: 'SUDO_INSTRUCTION_UNKNOWN', message: 'Unknown instruction.' });
    }
    if (!isTyped(rec.customType)) {
      throw new SudoResponse(409, { error: 'SUDO_NO_RESPONSE_EXPECTED', message: 'This instruction takes no typed response.' });
    }
    if (rec.status !== 'pending' && rec.status !== 'awaiting_response') {
      throw new SudoResponse(409, { error: 'SUDO_INSTRUCTION_FINAL', status: rec.status, message: `This instruction is ${rec.status}.` });
    }
    let data: { instructionId: string; status: string; matched: boolean };
    try {
      data = await this.client.sudoSubmitResponse({ instructionId: iid, response: String(b.response) });
    } catch (e) {
      if (e instanceof ConflictError) {
        throw new SudoResponse(409, { error: KEY_PENDING, instruction_id: iid, message: 'Not approved on the device (yet).' });
      }
      if (e instanceof GoneError) {
        await this.store.resolve(iid, 'expired');
        throw new SudoResponse(410, { error: 'SUDO_INSTRUCTION_EXPIRED', instruction_id: iid, message: 'This instruction expired.' });
      }
      throw relayFailure(e) ?? e;
    }
    const matched = data.matched === true && data.status === 'approved' && data.instructionId === iid;
    if (matched) {
      const d = await this.store.match(iid, binding);
      if (!d.ok) {
        const status = d.record?.status;
        throw refused(d.reason === 'mismatch' || !status ? 'mismatch' : status === 'consumed' ? 'reused' : status, iid);
      }
    } else if (data.status !== 'approved') {
      await this.store.resolve(iid, data.status);
    }
    return { instruction_id: data.instructionId, status: data.status, matched };
  }
}
