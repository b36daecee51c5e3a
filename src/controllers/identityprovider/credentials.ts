/**
 * Resolve an IdentityProvider's Secret references (initial access token, admin token, CA) from
 * the Secret cache of the operator namespace. Messages name the Secret and key, never a value.
 */
import type { IdpAdapterConfig } from '../../idp/adapter.ts';
import type { IdentityProvider } from '../../api/v1alpha1/index.ts';
import type { SecretObject } from '../../runtime/kube/types.ts';

export type SecretLookup = (name: string) => SecretObject | undefined;

export type CredentialResult =
  | { ok: true; config: IdpAdapterConfig; secrets: string[] }
  | { ok: false; message: string };

interface Ref {
  name: string;
  key?: string;
}

/** Names of every Secret an IdentityProvider refers to (for the Secret -> IdP index). */
export function referencedSecrets(idp: IdentityProvider): string[] {
  const refs = [
    idp.spec?.registration?.initialAccessTokenSecretRef,
    idp.spec?.admin?.tokenSecretRef,
    idp.spec?.tls?.caSecretRef,
  ];
  return [...new Set(refs.filter((r): r is Ref => !!r?.name).map((r) => r.name))];
}

export function resolveCredentials(idp: IdentityProvider, namespace: string, lookup: SecretLookup): CredentialResult {
  const spec = idp.spec;
  const config: IdpAdapterConfig = { issuer: spec.issuer, timeoutMs: (spec.requestTimeoutSeconds ?? 10) * 1000 };
  const missing: string[] = [];
  const read = (ref: Ref | undefined, defaultKey: string, field: string): string | undefined => {
    if (!ref?.name) return undefined;
    const key = ref.key || defaultKey;
    const secret = lookup(ref.name);
    if (!secret) {
      missing.push(`${field}: Secret ${namespace}/${ref.name} not found`);
      return undefined;
    }
    const encoded = secret.data?.[key];
    if (encoded === undefined || encoded === '') {
      missing.push(`${field}: Secret ${namespace}/${ref.name} has no key "${key}"`);
      return undefined;
    }
    return Buffer.from(encoded, 'base64').toString('utf8').trim();
  };
  const initialAccessToken = read(spec.registration?.initialAccessTokenSecretRef, 'token', 'registration.initialAccessTokenSecretRef');
  const adminToken = read(spec.admin?.tokenSecretRef, 'token', 'admin.tokenSecretRef');
  const caFromSecret = read(spec.tls?.caSecretRef, 'ca.crt', 'tls.caSecretRef');
  if (missing.length > 0) return { ok: false, message: missing.join('; ') };
  if (initialAccessToken) config.initialAccessToken = initialAccessToken;
  if (adminToken) config.adminToken = adminToken;
  const caBundle = [spec.tls?.caBundle, caFromSecret].filter(Boolean).join('\n');
  if (caBundle) config.caBundle = caBundle;
  return { ok: true, config, secrets: referencedSecrets(idp) };
}
