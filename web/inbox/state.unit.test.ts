/**
 * The inbox's rules (state.ts), in Node without a browser or a relay: REST rows and socket frames
 * in, state and effects out. `npx mocha web/inbox/state.unit.test.ts` runs them in well under a second.
 */
import assert from 'node:assert/strict';
import {
  initialState,
  isMine,
  logRows,
  missingPreviews,
  onFrame,
  queueRows,
  rowsOf,
  select,
  unseenCount,
  visitorCode,
  waitingSince,
  waitParts,
  withDetail,
  withLists,
  withPreview,
  withResult,
  type Conv,
  type InboxState,
  type Msg,
} from './state.js';

const ME = { id: 'op_me', display_name: 'Camille', routing_keys: [], role: 'agent' };

function conv(id: string, o: Partial<Conv> = {}): Conv {
  return {
    id,
    session_id: `vs_${id}`,
    status: 'pending',
    routing_key: 'store-1',
    assignee_operator_id: null,
    ticket_id: null,
    last_seq: 1,
    created_at: '2026-01-01T10:00:00.000Z',
    queued_at: '2026-01-01T10:00:00.000Z',
    assigned_at: null,
    resolved_at: null,
    ...o,
  };
}

function msg(seq: number, o: Partial<Msg> = {}): Msg {
  return {
    id: `m${seq}`,
    conversation_id: 'c1',
    seq,
    sender_type: 'visitor',
    sender_id: null,
    text: `text ${seq}`,
    created_at: `2026-01-01T10:0${seq}:00.000Z`,
    ...o,
  };
}

const welcomed = (): InboxState => onFrame(initialState(), { type: 'welcome', operator: ME }).state;
const frame = (s: InboxState, f: Record<string, unknown> & { type: string }) => onFrame(s, f);

describe('inbox state (pure)', () => {
  it('welcome: the operator is known, the lists are to be read, and an open conversation is read again', () => {
    const first = frame(initialState(), { type: 'welcome', operator: ME });
    assert.equal(first.state.me?.display_name, 'Camille');
    assert.deepEqual(first.effects, [{ type: 'loadLists' }]);
    const again = frame(select(first.state, 'cnv_a'), { type: 'welcome', operator: ME });
    assert.deepEqual(again.effects, [{ type: 'loadLists' }, { type: 'reopen', id: 'cnv_a' }]);
  });

  it('lists: the queue oldest first, mine apart; what the relay no longer lists is dropped unless open or resolved', () => {
    let s = welcomed();
    s = withLists(s, [conv('cnv_b', { queued_at: '2026-01-01T10:05:00.000Z' }), conv('cnv_a')], []);
    s = withLists(s, [conv('cnv_a')], [conv('cnv_m', { status: 'assigned', assignee_operator_id: ME.id })]);
    assert.deepEqual(
      queueRows(s).map((c) => c.id),
      ['cnv_a'],
    );
    assert.equal(s.convs['cnv_b'], undefined, 'no longer listed: gone');
    assert.deepEqual(
      rowsOf({ ...s, tab: 'mine' }).map((c) => c.id),
      ['cnv_m'],
    );
    s = select(withLists(s, [conv('cnv_b', { queued_at: '2026-01-01T09:00:00.000Z' }), conv('cnv_a')], []), 'cnv_b');
    assert.deepEqual(
      queueRows(s).map((c) => c.id),
      ['cnv_b', 'cnv_a'],
    );
    s = withLists(s, [], []);
    assert.ok(s.convs['cnv_b'], 'the open conversation stays');
  });

  it('a new conversation: unseen (title badge), announced, notified once per arrival', () => {
    const s0 = welcomed();
    const c = conv('cnv_a');
    const r1 = frame(s0, { type: 'conversation', change: 'started', conversation: c });
    assert.deepEqual(r1.effects, [{ type: 'notify', conv: c }]);
    assert.deepEqual(r1.state.unseen, ['cnv_a']);
    assert.equal(unseenCount(r1.state), 1);
    assert.deepEqual(r1.state.live, { kind: 'newConversation' });
    // The same arrival again (a second web process's copy): no second notification.
    const back = frame(r1.state, { type: 'conversation', change: 'assigned', conversation: conv('cnv_a', { status: 'assigned' }) });
    const r2 = frame(back.state, { type: 'conversation', change: 'released', conversation: c });
    assert.deepEqual(r2.effects, []);
    // A state change that is no arrival: nothing to notify.
    const r3 = frame(s0, { type: 'conversation', change: 'updated', conversation: c });
    assert.deepEqual(r3.effects, []);
    assert.deepEqual(r3.state.unseen, []);
    // Opening it clears the badge.
    assert.equal(unseenCount(select(r1.state, 'cnv_a')), 0);
  });

  it('the open conversation: its ticket is read again when escalated or when the ticket follows a take', () => {
    const s = select(withLists(welcomed(), [conv('cnv_a', { ticket_id: 'tkt_1' })], []), 'cnv_a');
    const taken = frame(s, {
      type: 'conversation',
      change: 'assigned',
      conversation: conv('cnv_a', { status: 'assigned', ticket_id: 'tkt_1', assignee_operator_id: 'op_x' }),
      operator: { id: 'op_x', display_name: 'Ana' },
    });
    assert.deepEqual(taken.effects, [{ type: 'refreshTicket', id: 'cnv_a' }]);
    assert.equal(taken.state.names['op_x'], 'Ana');
    const other = frame(s, { type: 'conversation', change: 'escalated', conversation: conv('cnv_b') });
    assert.ok(!other.effects.some((e) => e.type === 'refreshTicket'), 'not the open one');
  });

  it('messages: each seq once, the preview follows, last_seq never goes back; unseen only for a visitor elsewhere', () => {
    let s = withLists(welcomed(), [conv('cnv_a', { last_seq: 1 }), conv('cnv_b')], []);
    s = select(s, 'cnv_a');
    s = withDetail(s, { conversation: conv('cnv_a', { last_seq: 1 }), ticket: null, messages: [msg(1)] });
    const r = frame(s, { type: 'message', conversation_id: 'cnv_a', message: msg(2, { text: 'bonjour' }) });
    assert.deepEqual(r.effects, [{ type: 'markRead' }]);
    assert.equal(r.state.last['cnv_a']?.text, 'bonjour');
    assert.equal(r.state.convs['cnv_a']?.last_seq, 2);
    assert.deepEqual(r.state.live, { kind: 'message', text: 'bonjour' });
    const dup = frame(r.state, { type: 'message', conversation_id: 'cnv_a', message: msg(2, { text: 'again' }) });
    assert.equal(dup.state, r.state, 'a replayed message changes nothing');
    // A stale conversation frame does not move last_seq back.
    const stale = frame(r.state, { type: 'conversation', change: 'updated', conversation: conv('cnv_a', { last_seq: 1 }) });
    assert.equal(stale.state.convs['cnv_a']?.last_seq, 2);
    const elsewhere = frame(r.state, { type: 'message', conversation_id: 'cnv_b', message: msg(5) });
    assert.deepEqual(elsewhere.state.unseen, ['cnv_b']);
    const bot = frame(r.state, { type: 'message', conversation_id: 'cnv_b', message: msg(5, { sender_type: 'bot' }) });
    assert.deepEqual(bot.state.unseen, []);
  });

  it('previews: only for conversations with messages and none known; a live message is not overwritten by an older read', () => {
    let s = withLists(welcomed(), [conv('cnv_a', { last_seq: 0 }), conv('cnv_b', { last_seq: 3 })], []);
    assert.deepEqual(
      missingPreviews(s, Object.values(s.convs)).map((c) => c.id),
      ['cnv_b'],
    );
    s = frame(s, { type: 'message', conversation_id: 'cnv_b', message: msg(4, { text: 'live' }) }).state;
    s = withPreview(s, 'cnv_b', msg(3, { text: 'read' }));
    assert.equal(s.last['cnv_b']?.text, 'live');
  });

  it('typing and read receipts: only the visitor of the open conversation; the receipt marks the last operator message read', () => {
    let s = select(withLists(welcomed(), [], [conv('cnv_a', { status: 'assigned', assignee_operator_id: ME.id })]), 'cnv_a');
    assert.equal(frame(s, { type: 'typing', conversation_id: 'cnv_a', from: 'visitor', on: true }).state.visitorTyping, true);
    assert.equal(frame(s, { type: 'typing', conversation_id: 'cnv_b', from: 'visitor', on: true }).state.visitorTyping, false);
    s = withDetail(s, {
      conversation: conv('cnv_a', { status: 'assigned', assignee_operator_id: ME.id, last_seq: 3 }),
      ticket: null,
      messages: [msg(1), msg(2, { sender_type: 'operator', sender_id: ME.id }), msg(3, { sender_type: 'operator', sender_id: ME.id })],
    });
    s = frame(s, { type: 'read', conversation_id: 'cnv_a', from: 'visitor', seq: 2 }).state;
    s = frame(s, { type: 'read', conversation_id: 'cnv_a', from: 'visitor', seq: 1 }).state; // never backwards
    assert.deepEqual(
      logRows(s, 'cnv_a').map((r) => [r.msg.seq, r.kind, r.readByVisitor]),
      [
        [1, 'them', false],
        [2, 'op', true],
        [3, 'op', false],
      ],
    );
  });

  it('take: mine, on the mine tab', () => {
    const s = select(withLists(welcomed(), [conv('cnv_a')], []), 'cnv_a');
    const taken = withResult(s, 'take', conv('cnv_a', { status: 'assigned', assignee_operator_id: ME.id }));
    assert.equal(taken.tab, 'mine');
    assert.ok(isMine(taken, taken.convs['cnv_a']));
    assert.equal(withResult(s, 'release', conv('cnv_a')).tab, 'queue');
  });

  it('a person, not an id: a stable four-digit label per visitor; the waiting clock', () => {
    assert.match(visitorCode('vs_abc'), /^[0-9A-F]{4}$/);
    assert.equal(visitorCode('vs_abc'), visitorCode('vs_abc'));
    assert.notEqual(visitorCode('vs_abc'), visitorCode('vs_abd'));
    const s = welcomed();
    // Pending: since it entered the queue.
    assert.equal(waitingSince(s, conv('cnv_a', { queued_at: '2026-01-01T10:00:00.000Z' })), '2026-01-01T10:00:00.000Z');
    // Ours: since the first visitor message no operator has answered; nobody waits once an operator answered.
    const mine = conv('cnv_m', { status: 'assigned', assignee_operator_id: ME.id });
    const withLog = (messages: Msg[]) => withDetail(s, { conversation: mine, ticket: null, messages });
    assert.equal(waitingSince(withLog([msg(1, { sender_type: 'operator' }), msg(2), msg(3)]), mine), msg(2).created_at);
    assert.equal(waitingSince(withLog([msg(1), msg(2, { sender_type: 'operator' })]), mine), null);
    // The bot's reply answers nothing (it escalated): still waiting since the visitor's message.
    assert.equal(waitingSince(withLog([msg(1), msg(2, { sender_type: 'bot' })]), mine), msg(1).created_at);
    assert.equal(waitingSince(s, conv('cnv_r', { status: 'resolved' })), null);
    const t0 = Date.parse('2026-01-01T10:00:00.000Z');
    assert.deepEqual(waitParts('2026-01-01T10:00:00.000Z', t0 + 30_000), { h: 0, m: 0 });
    assert.deepEqual(waitParts('2026-01-01T10:00:00.000Z', t0 + 125 * 60_000), { h: 2, m: 5 });
    assert.equal(waitParts('not a date', t0), null);
  });
});
