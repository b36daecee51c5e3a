import { describe, expect, it } from 'vitest';
import { adapterTypes, createAdapter, registerAdapterType } from './registry.ts';
import { isIdpError } from './errors.ts';
import { OidcAdapter } from './oidc/adapter.ts';

describe('adapter registry', () => {
  it('builds the built-in adapters', () => {
    expect(createAdapter('oidc', { issuer: 'https://idp.example' }).type).toBe('oidc');
    expect(createAdapter('embedded', { issuer: 'https://idp.example' }).type).toBe('embedded');
    expect(adapterTypes()).toEqual(expect.arrayContaining(['oidc', 'embedded']));
  });

  it('refuses an unknown type with IdpError Unsupported', () => {
    let caught: unknown;
    try {
      createAdapter('okta', { issuer: 'https://idp.example' });
    } catch (error) {
      caught = error;
    }
    expect(isIdpError(caught) && caught.code).toBe('Unsupported');
    expect(isIdpError(caught) && caught.transient).toBe(false);
  });

  it('accepts new types', () => {
    class Custom extends OidcAdapter {
      override readonly type = 'custom-test';
    }
    registerAdapterType('custom-test', (config) => new Custom(config));
    expect(createAdapter('custom-test', { issuer: 'https://idp.example' }).type).toBe('custom-test');
  });
});
