/**
 * The one place controllers are registered. Add a controller by appending its factory; the
 * manager starts them all (in this order) on the shared informers.
 */
import { agentClientController } from './agentclient/controller.ts';
import { consentPolicyController } from './consentpolicy/controller.ts';
import { grantRevocationController } from './grantrevocation/factory.ts';
import { identityProviderController } from './identityprovider/controller.ts';
import type { ControllerFactory } from './types.ts';

export const controllerFactories: readonly ControllerFactory[] = [identityProviderController, agentClientController, consentPolicyController, grantRevocationController];

export type { ControllerDeps, ControllerFactory, OperatorSettings } from './types.ts';
export { ProviderRegistry } from './identityprovider/providers.ts';
export type { ProviderState, ProviderLookup } from './identityprovider/providers.ts';
