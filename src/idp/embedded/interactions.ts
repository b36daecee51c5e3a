/**
 * Login and consent interactions for the embedded IdP (oidc-provider's interaction API). Every
 * consent decision is logged with its time, the agent, the user and the scope delta.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { Provider } from 'oidc-provider';
import type { AccountBook } from './accounts.ts';
import { grantScopes } from './store.ts';
import { consentPage, errorPage, loginPage } from './views.ts';

const MAX_FORM_BYTES = 16 * 1024;

/** Reads an application/x-www-form-urlencoded body (bounded). */
export async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_FORM_BYTES) throw new Error('form too large');
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

function html(res: ServerResponse, status: number, body: string): void {
  res.statusCode = status;
  res.setHeader('Content-Type', 'text/html; charset=utf-8');
  res.setHeader('Cache-Control', 'no-store');
  res.end(body);
}

interface MissingScopes {
  missingOIDCScope?: string[];
  missingResourceScopes?: Record<string, string[]>;
}

function requestedScopes(details: MissingScopes): string[] {
  const scopes = new Set(details.missingOIDCScope ?? []);
  for (const list of Object.values(details.missingResourceScopes ?? {})) for (const s of list) scopes.add(s);
  return [...scopes];
}

function stringRecord(value: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) if (typeof v === 'string') out[k] = v;
  }
  return out;
}

export interface InteractionDeps {
  provider: Provider;
  accounts: AccountBook;
  logger: Logger;
}

/** Handles `/interaction/{uid}[/login|/confirm|/abort]`; resolves false for other paths. */
export async function handleInteraction(
  deps: InteractionDeps,
  req: IncomingMessage,
  res: ServerResponse,
  pathname: string,
): Promise<boolean> {
  const match = /^\/interaction\/([\w-]+)(?:\/(login|confirm|abort))?$/.exec(pathname);
  if (!match) return false;
  const action = match[2];
  const { provider, accounts, logger } = deps;
  let interaction;
  try {
    interaction = await provider.interactionDetails(req, res);
  } catch {
    html(res, 400, errorPage('This sign-in request has expired or is invalid. Start again from the application.'));
    return true;
  }
  const { uid, prompt, params, session } = interaction;
  const clientId = String(params['client_id'] ?? '');
  const client = await provider.Client.find(clientId);
  if (!client) {
    html(res, 400, errorPage('Unknown or disabled client.'));
    return true;
  }
  const metadata = client.metadata() as Record<string, unknown>;
  const clientName = typeof metadata['client_name'] === 'string' ? metadata['client_name'] : clientId;

  if (req.method === 'GET' && action === undefined) {
    if (prompt.name === 'login') {
      html(res, 200, loginPage({ uid, clientName }));
      return true;
    }
    const details = prompt.details as MissingScopes;
    const existing = interaction.grantId ? await provider.Grant.find(interaction.grantId) : undefined;
    html(res, 200, consentPage({
      uid,
      clientId,
      clientName,
      agentMetadata: stringRecord(metadata['agent_metadata']),
      requested: requestedScopes(details),
      alreadyGranted: existing ? [...grantScopes(existing as never)] : [],
      account: session?.accountId ?? '',
    }));
    return true;
  }
  if (req.method !== 'POST' || action === undefined) {
    html(res, 405, errorPage('Method not allowed.'));
    return true;
  }
  const form = await readForm(req);

  if (action === 'abort') {
    logger.info({
      event: 'consent', decision: 'denied', time: new Date().toISOString(), clientId,
      subject: session?.accountId, prompt: prompt.name, requested: requestedScopes(prompt.details as MissingScopes),
    }, 'consent decision');
    await provider.interactionFinished(req, res, {
      error: 'access_denied', error_description: 'End-User aborted interaction',
    }, { mergeWithLastSubmission: false });
    return true;
  }

  if (action === 'login') {
    if (prompt.name !== 'login') {
      html(res, 400, errorPage('No sign-in is pending for this request.'));
      return true;
    }
    const login = form.get('login') ?? '';
    const accountId = accounts.verify(login, form.get('password') ?? '');
    if (!accountId) {
      logger.info({ event: 'login', outcome: 'failed', clientId, time: new Date().toISOString() }, 'login failed');
      html(res, 401, loginPage({ uid, clientName, login, error: 'Invalid account or password.' }));
      return true;
    }
    logger.info({ event: 'login', outcome: 'succeeded', clientId, subject: accountId, time: new Date().toISOString() }, 'login');
    await provider.interactionFinished(req, res, { login: { accountId } }, { mergeWithLastSubmission: false });
    return true;
  }

  // action === 'confirm'
  if (prompt.name !== 'consent' || !session?.accountId) {
    html(res, 400, errorPage('No consent is pending for this request.'));
    return true;
  }
  const details = prompt.details as MissingScopes & { missingOIDCClaims?: string[] };
  const existing = interaction.grantId ? await provider.Grant.find(interaction.grantId) : undefined;
  const previously = existing ? [...grantScopes(existing as never)] : [];
  const grant = existing ?? new provider.Grant({ accountId: session.accountId, clientId });
  if (details.missingOIDCScope) grant.addOIDCScope(details.missingOIDCScope.join(' '));
  if (details.missingOIDCClaims) grant.addOIDCClaims(details.missingOIDCClaims);
  for (const [indicator, scopes] of Object.entries(details.missingResourceScopes ?? {})) {
    grant.addResourceScope(indicator, scopes.join(' '));
  }
  const grantId = await grant.save();
  logger.info({
    event: 'consent', decision: 'granted', time: new Date().toISOString(), clientId,
    subject: session.accountId, grantId, delta: previously.length > 0,
    added: requestedScopes(details), previouslyGranted: previously,
  }, 'consent decision');
  await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
  return true;
}
