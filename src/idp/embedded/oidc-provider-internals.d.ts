// oidc-provider's per-instance internal state (no public accessor; see widenScopeSet in config.ts).
declare module 'oidc-provider/lib/helpers/weak_cache.js' {
  export default function instance(provider: object): { configuration: { scopes: Set<string> } };
}
