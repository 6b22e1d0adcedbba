/**
 * What the durability tests check in MongoDB once the relay has caught up, read from the stored
 * collections directly (their names are persisted, so they are part of the contract), never through
 * the relay's own models:
 *   events             every accepted callback's event, once;
 *   deliveries         one delivery per event (whatever the number of attempts; the tenants checked
 *                      here all have a receiver, so an event without one is a lost delivery), succeeded, and every
 *                      accepted delivery id received by the tenant's receiver with a 2xx at least once
 *                      (at-least-once: a worker killed after the POST sends it again);
 *   approval_requests  every accepted challenge, once, and one request per instruction_id;
 *   chat_messages      every acked message once, under the number it was acked with, and no number
 *                      used twice in a conversation. A number may be missing: one handed out to a
 *                      message whose store job could not be queued (Redis going down at that moment;
 *                      the sender got a 503 and no ack) is never used — readers pass over it
 *                      (api/chat/ws/sequencer.ts). Such holes are counted, never hidden.
 */
import mongoose from 'mongoose';
import type { Received } from '../fakes/receiver.js';
import type { Accepted } from './accepted-load.js';

type Doc = Record<string, any>;

export type Findings = {
  /** Accepted items not in MongoDB, by kind (ids / texts). */
  missing: { callbacks: string[]; deliveries: string[]; challenges: string[]; messages: string[] };
  /** Anything stored more than once where the model says once. */
  duplicates: string[];
  /** Deliveries not (yet) succeeded, or not received with a 2xx. */
  undelivered: string[];
  /** Conversations where a number is used twice. */
  numbering: string[];
  figures: {
    events: number;
    deliveries: number;
    approvals: number;
    messages: number;
    postsReceived: number;
    redelivered: number;
    /** Numbers never used (handed out to a message that was then refused), over all conversations. */
    holes: number;
  };
};

const db = () => {
  const d = mongoose.connection.db;
  if (!d) throw new Error('mongoose is not connected');
  return d;
};

export async function findings(tenantId: string, accepted: Accepted, received: Received[]): Promise<Findings> {
  const [events, deliveries, approvals, messages] = await Promise.all([
    db().collection('events').find({ tenant_id: tenantId }).toArray() as Promise<Doc[]>,
    db().collection('deliveries').find({ tenant_id: tenantId }).toArray() as Promise<Doc[]>,
    db().collection('approval_requests').find({ tenant_id: tenantId }).toArray() as Promise<Doc[]>,
    db().collection('chat_messages').find({ tenant_id: tenantId }).toArray() as Promise<Doc[]>,
  ]);
  const f: Findings = {
    missing: { callbacks: [], deliveries: [], challenges: [], messages: [] },
    duplicates: [],
    undelivered: [],
    numbering: [],
    figures: {
      events: events.length,
      deliveries: deliveries.length,
      approvals: approvals.length,
      messages: messages.length,
      postsReceived: received.length,
      redelivered: 0,
      holes: 0,
    },
  };
  const group = <T>(xs: T[], key: (x: T) => string) => {
    const m = new Map<string, T[]>();
    for (const x of xs) m.set(key(x), [...(m.get(key(x)) ?? []), x]);
    return m;
  };

  // Callbacks: the event once, one delivery per event, delivered.
  const eventIds = new Set(events.map((e) => String(e._id)));
  const deliveriesByEvent = group(deliveries, (d) => String(d.event_id));
  const deliveryById = new Map(deliveries.map((d) => [String(d._id), d]));
  const ok2xx = new Set<string>();
  const posts = new Map<string, number>();
  for (const r of received) {
    const id = String(r.headers['x-bloonio-delivery-id']);
    posts.set(id, (posts.get(id) ?? 0) + 1);
    if ((r.answeredStatus ?? 0) >= 200 && (r.answeredStatus ?? 0) < 300) ok2xx.add(id);
  }
  f.figures.redelivered = [...posts.values()].filter((n) => n > 1).length;
  for (const a of accepted.callbacks.values()) {
    if (!eventIds.has(a.eventId)) f.missing.callbacks.push(a.eventId);
    if (!deliveryById.has(a.deliveryId)) f.missing.deliveries.push(a.deliveryId);
  }
  for (const [eventId, ds] of deliveriesByEvent) {
    if (ds.length > 1) f.duplicates.push(`${ds.length} deliveries of ${eventId}`);
    if (!eventIds.has(eventId)) f.missing.callbacks.push(`${eventId} (has a delivery, no event)`);
  }
  // Every tenant checked here has a receiver: an event without its delivery is a delivery lost.
  for (const e of events)
    if (!deliveriesByEvent.has(String(e._id))) f.undelivered.push(`${e._id} ${e.event_type}: an event with no delivery`);
  for (const d of deliveries) {
    if (d.status !== 'succeeded') f.undelivered.push(`${d._id} ${d.event_type} is ${d.status}`);
    else if (!ok2xx.has(String(d._id))) f.undelivered.push(`${d._id} succeeded but never answered 2xx by the receiver`);
  }

  // Challenges: once each, one per instruction id.
  const approvalIds = new Set(approvals.map((a) => String(a._id)));
  for (const a of accepted.challenges.values()) if (!approvalIds.has(a.requestId)) f.missing.challenges.push(a.requestId);
  for (const [instruction, rs] of group(approvals, (a) => String(a.instruction_id)))
    if (rs.length > 1) f.duplicates.push(`${rs.length} approval requests for instruction ${instruction}`);

  // Messages: once each under the acked number; numbers 1..M per conversation.
  const byText = group(messages, (m) => `${m.conversation_id}|${m.text}`);
  for (const a of accepted.messages.values()) {
    const stored = byText.get(`${a.conversationId}|${a.text}`) ?? [];
    if (stored.length === 0) f.missing.messages.push(a.text);
    else if (stored[0]!.seq !== a.seq) f.duplicates.push(`message "${a.text}" acked as #${a.seq}, stored as #${stored[0]!.seq}`);
  }
  for (const [key, ms] of byText) if (ms.length > 1) f.duplicates.push(`${ms.length} copies of message ${key}`);
  for (const [conv, ms] of group(messages, (m) => String(m.conversation_id))) {
    const seqs = ms.map((m) => Number(m.seq)).sort((x, y) => x - y);
    const repeated = seqs.filter((n, i) => i > 0 && seqs[i - 1] === n);
    if (repeated.length) f.numbering.push(`${conv}: ${[...new Set(repeated)].join(',')} used twice`);
    f.figures.holes += (seqs.at(-1) ?? 0) - new Set(seqs).size;
  }
  return f;
}

/** Everything accepted is there, once, delivered, and no number used twice. */
export function complete(f: Findings): boolean {
  const m = f.missing;
  return (
    m.callbacks.length + m.deliveries.length + m.challenges.length + m.messages.length === 0 &&
    f.duplicates.length === 0 &&
    f.undelivered.length === 0 &&
    f.numbering.length === 0
  );
}

export function describeFindings(f: Findings): string {
  const m = f.missing;
  const show = (xs: string[]) => `${xs.length}${xs.length ? ` (${xs.slice(0, 3).join('; ')})` : ''}`;
  return (
    `missing: ${show(m.callbacks)} events, ${show(m.deliveries)} deliveries, ${show(m.challenges)} approval requests, ${show(m.messages)} messages; ` +
    `duplicates: ${show(f.duplicates)}; not delivered: ${show(f.undelivered)}; numbering: ${show(f.numbering)}`
  );
}
