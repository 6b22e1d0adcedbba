/**
 * A callback delivery's states and who moves it between them: the one place a reader learns the
 * rules. The worker records each attempt with one of these transitions (delivery-records.ts builds
 * its guarded update's filter from the transition's `from`); a replay from the dead-letter store is
 * the admin's (delivery-admin.ts). A delivery not attempted yet is only its job (emit-event.ts): its
 * record is created by its first attempt, already in the state that attempt leads to.
 *
 *   pending ──deliver──▶ succeeded        pending ──retry──▶ pending (next_attempt_at set)
 *   pending ──deadLetter──▶ dead ──replay──▶ pending
 *   dead ──deliverFromDead──▶ succeeded    dead ──failFromDead──▶ dead
 */
import { defineMachine } from '../../platform/state-machine.js';
import { DELIVERY_STATUSES } from './delivery.js';

/** Who moves a delivery: the delivery worker, or the tenant's admin (admin API or console) replaying a dead letter. */
export const DELIVERY_ACTORS = ['worker', 'admin'] as const;
export type DeliveryActor = (typeof DELIVERY_ACTORS)[number];

export const deliveryMachine = defineMachine({
  name: 'delivery',
  states: DELIVERY_STATUSES,
  final: ['succeeded'],
  transitions: {
    deliver: { from: ['pending'], to: 'succeeded', by: ['worker'], why: 'the receiver answered 2xx' },
    retry: {
      from: ['pending'],
      to: 'pending',
      by: ['worker'],
      why: 'a retryable failure (network, timeout, 408, 429, 5xx) with attempts left: tried again after the schedule or Retry-After',
    },
    deadLetter: {
      from: ['pending'],
      to: 'dead',
      by: ['worker'],
      why: 'a permanent refusal, or the retries are used up: the delivery goes to the dead-letter store',
    },
    replay: {
      from: ['dead'],
      to: 'pending',
      by: ['admin'],
      why: 'the tenant replays a dead letter (one, or a time range): a new job, the attempts continue',
    },
    deliverFromDead: {
      from: ['dead'],
      to: 'succeeded',
      by: ['worker'],
      why: "a dead letter's failed job retried from the queue dashboard got 2xx",
    },
    failFromDead: {
      from: ['dead'],
      to: 'dead',
      by: ['worker'],
      why: "a dead letter's failed job retried from the queue dashboard failed again: the attempt is recorded, it stays dead",
    },
  },
});

export type DeliveryTransition = keyof typeof deliveryMachine.transitions;

/** The worker's transitions (what an attempt leads to). */
export type AttemptTransition = Exclude<DeliveryTransition, 'replay'>;

/** The status a guarded update of `name` expects: the transition's one from-state, or any of several. */
export function deliveryGuard(name: DeliveryTransition): { status: string | { $in: string[] } } {
  const [only, ...more] = deliveryMachine.get(name).from;
  return { status: only !== undefined && !more.length ? only : { $in: [...deliveryMachine.get(name).from] } };
}
