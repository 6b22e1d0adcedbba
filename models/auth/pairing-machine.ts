/**
 * Pairing's transition tables (pairing.ts, device.ts, pairing-flow.ts). A pairing has two stateful
 * records: the intent behind a pairing proof (single use), and each device of the pairing. The
 * pairing itself (one per tenant and user) has no state: it exists while it has devices or not.
 *
 *   intent:  pending ──redeem──▶ consumed   a device presents the proof (once; before its expiry,
 *                                           which is the clock, not a transition)
 *   device:  active  ──revoke──▶ revoked    the device unpairs itself, or the tenant's backend revokes it
 *
 * The MongoDB updates that move them filter on the transition's `from` (statusFilter).
 */
import { defineMachine } from '../../platform/state-machine.js';

export const pairingIntentMachine = defineMachine({
  name: 'pairing intent',
  states: ['pending', 'consumed'],
  final: ['consumed'],
  transitions: {
    redeem: { from: ['pending'], to: 'consumed', by: ['device'], why: 'a device redeemed the pairing proof' },
  },
});

export const deviceMachine = defineMachine({
  name: 'device',
  states: ['active', 'revoked'],
  final: ['revoked'],
  transitions: {
    revoke: {
      from: ['active'],
      to: 'revoked',
      by: ['device', 'backend'],
      why: "the device unpaired itself, or the tenant's backend revoked it",
    },
  },
});

export type DeviceActor = (typeof deviceMachine.transitions.revoke.by)[number];

/** The MongoDB filter on `status` for a transition's from-states (one state: the plain value, as the indexes expect). */
export function statusFilter(from: readonly string[]): string | { $in: string[] } {
  return from.length === 1 ? (from[0] as string) : { $in: [...from] };
}
