// The `embedded` adapter (oidc + admin API) against the real embedded IdP.
import { describeAdapterConformance } from './conformance.ts';
import { startIdpBehindProxy } from './env.ts';

describeAdapterConformance('embedded', () => startIdpBehindProxy('embedded', { withAdmin: true }), {
  capabilities: {
    registration: true,
    management: true,
    revokeClientGrants: true,
    revokeSubjectGrants: true,
    tokenLifetimes: true,
    multipleSecrets: false,
    jwks: true,
    disableClient: true,
  },
  listsBySoftwareId: true,
});
