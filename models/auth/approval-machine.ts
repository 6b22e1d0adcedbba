/**
 * The approval request's transition table: the one place a reader learns who may move a request
 * from one state to another. The request lives in a Redis hash (approval-state.ts); the Lua scripts
 * that move it are given each transition's `from` and `to` from here.
 *
 *   pending ──approve──▶ approved   a device's answer reached the quorum (`threshold` distinct people)
 *   pending ──deny─────▶ denied     a device's denial: the first one when deny-first, else once the
 *                                   quorum can no longer be reached (approval-rules.ts decideQuorum)
 *   pending ──expire───▶ expired    the expiry job (push.expire-request), once the expiry has passed
 *   pending ──cancel───▶ cancelled  the tenant withdraws it (POST /relay/sudo/cancel-event)
 *
 * A security alert is born `informational` and never moves. An answer that does not decide (the
 * quorum not reached yet) is recorded without a transition; one person answers once.
 */
import { IllegalTransition, defineMachine } from '../../platform/state-machine.js';

export const approvalMachine = defineMachine({
  name: 'approval request',
  states: ['pending', 'approved', 'denied', 'expired', 'cancelled', 'informational'],
  final: ['approved', 'denied', 'expired', 'cancelled', 'informational'],
  transitions: {
    approve: { from: ['pending'], to: 'approved', by: ['device'], why: 'the approvals reached the threshold' },
    deny: { from: ['pending'], to: 'denied', by: ['device'], why: 'a denial, when deny-first; else the threshold became unreachable' },
    expire: { from: ['pending'], to: 'expired', by: ['sweeper'], why: 'the expiry passed with no decision' },
    cancel: { from: ['pending'], to: 'cancelled', by: ['tenant'], why: 'the tenant withdrew the request' },
  },
});

export type ApprovalTransition = keyof typeof approvalMachine.transitions;
export type ApprovalActor = (typeof approvalMachine.transitions)[ApprovalTransition]['by'][number];
export const APPROVAL_ACTORS: readonly ApprovalActor[] = ['device', 'sweeper', 'tenant'];

/** Throws IllegalTransition unless `actor` may make `name` (the state is checked by the store). */
export function assertApprovalActor(name: ApprovalTransition, actor: ApprovalActor): void {
  if (!(approvalMachine.get(name).by as readonly string[]).includes(actor))
    throw new IllegalTransition(approvalMachine.name, name, '-', 'actor');
}
