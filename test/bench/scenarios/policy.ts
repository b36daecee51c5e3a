/**
 * Scenario 6 (ConsentPolicy issue): a policy change affecting 1,000 AgentClients, time until
 * every ceiling is updated at the IdP. Measured only once a ConsentPolicy controller is part of
 * the operator; until then the report says so instead of printing a number.
 */
import { controllerFactories } from '../../../src/controllers/index.ts';
import type { BenchContext } from '../context.ts';

export interface PolicyResult {
  notMeasured: string;
}

export async function runPolicyChange(_ctx: BenchContext): Promise<PolicyResult> {
  // The factories are functions; the controller's name is only known once built, so look at what
  // the operator registers by source file name instead of building the controllers here.
  const registered = controllerFactories.map((f) => f.name || '(anonymous)').join(', ');
  return {
    notMeasured:
      `no ConsentPolicy controller is registered in src/controllers/index.ts (factories: ${registered || 'none'}); ` +
      'a policy change has nothing to propagate it to the IdP yet',
  };
}
