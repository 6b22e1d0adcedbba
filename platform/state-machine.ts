/**
 * Declared state machines (after Kratos selfservice/flow/state.go and Hanko's flow tables): each
 * stateful thing has one table of named transitions — from which states, to which state, and who may
 * make it. The code that changes state names a transition; the table is the one place a reader
 * learns the rules, and the transition's `from` set is what the store's compare-and-set (a Lua
 * script's check, a MongoDB filter) is built from, so the store refuses what the table refuses.
 *
 * Each table is walked by a test that makes every legal transition through the real code and checks
 * that every illegal one (wrong state, wrong actor) is refused.
 */

export type Transition<State extends string, Actor extends string> = {
  readonly from: readonly State[];
  readonly to: State;
  /** Who may make it. */
  readonly by: readonly Actor[];
  /** One line for the reader: when and why this transition happens. */
  readonly why: string;
};

export type MachineDef<State extends string, Name extends string, Actor extends string> = {
  readonly name: string;
  readonly states: readonly State[];
  /** States nothing leaves. */
  readonly final: readonly State[];
  readonly transitions: { readonly [N in Name]: Transition<State, Actor> };
};

/** Why a transition was refused: it does not leave this state, or this actor may not make it. */
export class IllegalTransition extends Error {
  constructor(
    readonly machine: string,
    readonly transition: string,
    readonly state: string,
    readonly reason: 'state' | 'actor',
  ) {
    super(`${machine}: ${transition} is not allowed ${reason === 'state' ? `from ${state}` : 'for this actor'}`);
    this.name = 'IllegalTransition';
  }
}

export type Machine<State extends string, Name extends string, Actor extends string> = MachineDef<State, Name, Actor> & {
  /** The transition's definition. */
  get(name: Name): Transition<State, Actor>;
  /** Whether `actor` may make `name` from `state`. */
  can(name: Name, state: State, actor: Actor): boolean;
  /** The state `name` leads to from `state`, or throws IllegalTransition. */
  next(name: Name, state: State, actor: Actor): State;
};

/** A machine from its table; checks the table itself (known states, no transition out of a final state). */
export function defineMachine<const State extends string, const Name extends string, const Actor extends string>(
  def: MachineDef<State, Name, Actor>,
): Machine<State, Name, Actor> {
  const known = new Set<string>(def.states);
  for (const [n, t] of Object.entries(def.transitions) as [string, Transition<State, Actor>][]) {
    for (const s of [...t.from, t.to]) if (!known.has(s)) throw new Error(`${def.name}.${n}: unknown state ${s}`);
    for (const s of t.from) if (def.final.includes(s)) throw new Error(`${def.name}.${n}: leaves final state ${s}`);
  }
  const get = (name: Name) => def.transitions[name];
  const can = (name: Name, state: State, actor: Actor) => get(name).from.includes(state) && get(name).by.includes(actor);
  return {
    ...def,
    get,
    can,
    next(name, state, actor) {
      const t = get(name);
      if (!t.from.includes(state)) throw new IllegalTransition(def.name, name, state, 'state');
      if (!t.by.includes(actor)) throw new IllegalTransition(def.name, name, state, 'actor');
      return t.to;
    },
  };
}

/** Every (transition, state, actor) triple of a machine with whether the table allows it: what a walking test iterates. */
export function everyMove<State extends string, Name extends string, Actor extends string>(
  m: Machine<State, Name, Actor>,
  actors: readonly Actor[],
): { name: Name; state: State; actor: Actor; legal: boolean; to: State }[] {
  const out: { name: Name; state: State; actor: Actor; legal: boolean; to: State }[] = [];
  for (const name of Object.keys(m.transitions) as Name[])
    for (const state of m.states)
      for (const actor of actors) out.push({ name, state, actor, legal: m.can(name, state, actor), to: m.get(name).to });
  return out;
}
