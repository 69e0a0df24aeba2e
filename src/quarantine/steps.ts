/** The steps of one replay batch, in order; a crash point (tests) names the step after which to die. */
export const REPLAY_STEPS = ['claim', 'events', 'quarantine', 'done'] as const;
export type ReplayStep = (typeof REPLAY_STEPS)[number];
