/**
 * The console one-time-code challenge's transition table (the challenge is a Redis hash:
 * challenges.ts). Opening a challenge starts it live, replacing any previous one of the same id;
 * its code's expiry and the hash's TTL are the clock, not transitions.
 *
 *   live ──pass────▶ used   the right code: the challenge is deleted, so it works once
 *   live ──miss────▶ live   a wrong code, counted (attempts left = MAX_ATTEMPTS − attempts)
 *   live ──exhaust─▶ dead   the MAX_ATTEMPTS-th wrong code: dead refuses even the right code
 *
 * Which of miss and exhaust a wrong code makes is decided by the settle script (the count is there).
 */
import { defineMachine } from '../../platform/state-machine.js';

export const challengeMachine = defineMachine({
  name: 'console challenge',
  states: ['live', 'used', 'dead'],
  final: ['used', 'dead'],
  transitions: {
    pass: { from: ['live'], to: 'used', by: ['person'], why: 'the right code, once' },
    miss: { from: ['live'], to: 'live', by: ['person'], why: 'a wrong code, counted' },
    exhaust: { from: ['live'], to: 'dead', by: ['person'], why: 'the last wrong code allowed: the challenge is over' },
  },
});

export type ChallengeState = (typeof challengeMachine.states)[number];
export type ChallengeTransition = keyof typeof challengeMachine.transitions;
