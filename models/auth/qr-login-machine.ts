/**
 * The QR-login session's transition table (the session is a Redis hash: qr-login.ts). Expiry is the
 * clock, not a transition: a pending session past its expiry answers nothing and is forgotten.
 *
 *   pending  ──approve──▶  approved   the device approved (with the right number, when matching)
 *   pending  ──deny─────▶  denied     the device denied
 *   pending  ──mismatch─▶  denied     number matching: the device sent another number than shown
 *   approved ┐
 *   denied   ┴─consume──▶  consumed   the tenant's backend polled and read the outcome (once)
 */
import { IllegalTransition, defineMachine } from '../../platform/state-machine.js';

export const qrLoginMachine = defineMachine({
  name: 'QR-login session',
  states: ['pending', 'approved', 'denied', 'consumed'],
  final: ['consumed'],
  transitions: {
    approve: { from: ['pending'], to: 'approved', by: ['device'], why: 'the device approved the login' },
    deny: { from: ['pending'], to: 'denied', by: ['device'], why: 'the device denied the login' },
    mismatch: { from: ['pending'], to: 'denied', by: ['device'], why: 'the device sent another number than the browser showed' },
    consume: { from: ['approved', 'denied'], to: 'consumed', by: ['backend'], why: "the tenant's poll read the outcome, once" },
  },
});

export type QrStatus = (typeof qrLoginMachine.states)[number];
export type QrTransition = keyof typeof qrLoginMachine.transitions;
export type QrActor = (typeof qrLoginMachine.transitions)[QrTransition]['by'][number];
export const QR_ACTORS: readonly QrActor[] = ['device', 'backend'];

/** Throws IllegalTransition unless `actor` may make `name` (the state is checked by the script). */
export function assertQrActor(name: QrTransition, actor: QrActor): void {
  if (!(qrLoginMachine.get(name).by as readonly string[]).includes(actor))
    throw new IllegalTransition(qrLoginMachine.name, name, '-', 'actor');
}
