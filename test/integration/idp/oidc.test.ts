// The generic `oidc` adapter against the real embedded IdP (oidc-provider): RFC 7591/7592 only.
import { describeAdapterConformance } from './conformance.ts';
import { startIdpBehindProxy } from './env.ts';

describeAdapterConformance('oidc', () => startIdpBehindProxy('oidc', { withAdmin: false }), {
  capabilities: {
    registration: true,
    management: true,
    revokeClientGrants: false,
    revokeSubjectGrants: false,
    tokenLifetimes: false,
    multipleSecrets: false,
    jwks: true,
    disableClient: false,
  },
  listsBySoftwareId: false,
});
