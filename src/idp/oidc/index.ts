export { OidcAdapter, createOidcAdapter, toRegistration } from './adapter.ts';
export { capabilitiesFrom, fetchMetadata, parseMetadata, wellKnownUrls } from './discovery.ts';
export { IdpHttp, safeOrigin, DEFAULT_TIMEOUT_MS } from './http.ts';
export type { IdpRequest, IdpResponse } from './http.ts';
