/**
 * The ConsentPolicy engine: pure functions, no I/O. The AgentClient controller calls
 * `selectPolicies`, then `effectiveCeiling` and `effectiveLifetimes`, then `decideCeilingChange`
 * and `recordCeilingChange`.
 */
export * from './types.ts';
export * from './scopes.ts';
export * from './selectors.ts';
export * from './classify.ts';
export * from './ceiling.ts';
export * from './decision.ts';
export * from './history.ts';
