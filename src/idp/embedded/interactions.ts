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

type Interaction = Awaited<ReturnType<Provider['interactionDetails']>>;

interface Context {
  deps: InteractionDeps;
  req: IncomingMessage;
  res: ServerResponse;
  interaction: Interaction;
  clientId: string;
  clientName: string;
  metadata: Record<string, unknown>;
}

async function existingScopes(ctx: Context): Promise<string[]> {
  const { grantId } = ctx.interaction;
  const existing = grantId ? await ctx.deps.provider.Grant.find(grantId) : undefined;
  return existing ? [...grantScopes(existing as never)] : [];
}

async function showPrompt(ctx: Context): Promise<void> {
  const { uid, prompt, session } = ctx.interaction;
  if (prompt.name === 'login') {
    html(ctx.res, 200, loginPage({ uid, clientName: ctx.clientName }));
    return;
  }
  html(ctx.res, 200, consentPage({
    uid,
    clientId: ctx.clientId,
    clientName: ctx.clientName,
    agentMetadata: stringRecord(ctx.metadata['agent_metadata']),
    requested: requestedScopes(prompt.details),
    alreadyGranted: await existingScopes(ctx),
    account: session?.accountId ?? '',
  }));
}

async function abort(ctx: Context): Promise<void> {
  const { prompt, session } = ctx.interaction;
  ctx.deps.logger.info({
    event: 'consent', decision: 'denied', time: new Date().toISOString(), clientId: ctx.clientId,
    subject: session?.accountId, prompt: prompt.name, requested: requestedScopes(prompt.details as MissingScopes),
  }, 'consent decision');
  await ctx.deps.provider.interactionFinished(ctx.req, ctx.res, {
    error: 'access_denied', error_description: 'End-User aborted interaction',
  }, { mergeWithLastSubmission: false });
}

async function login(ctx: Context, form: URLSearchParams): Promise<void> {
  const { uid, prompt } = ctx.interaction;
  const { logger, accounts, provider } = ctx.deps;
  if (prompt.name !== 'login') {
    html(ctx.res, 400, errorPage('No sign-in is pending for this request.'));
    return;
  }
  const name = form.get('login') ?? '';
  const accountId = accounts.verify(name, form.get('password') ?? '');
  const time = new Date().toISOString();
  if (!accountId) {
    logger.info({ event: 'login', outcome: 'failed', clientId: ctx.clientId, time }, 'login failed');
    html(ctx.res, 401, loginPage({ uid, clientName: ctx.clientName, login: name, error: 'Invalid account or password.' }));
    return;
  }
  logger.info({ event: 'login', outcome: 'succeeded', clientId: ctx.clientId, subject: accountId, time }, 'login');
  await provider.interactionFinished(ctx.req, ctx.res, { login: { accountId } }, { mergeWithLastSubmission: false });
}

async function confirm(ctx: Context): Promise<void> {
  const { prompt, session } = ctx.interaction;
  const { provider, logger } = ctx.deps;
  if (prompt.name !== 'consent' || !session?.accountId) {
    html(ctx.res, 400, errorPage('No consent is pending for this request.'));
    return;
  }
  const details = prompt.details as MissingScopes & { missingOIDCClaims?: string[] };
  const { grantId: existingId } = ctx.interaction;
  const existing = existingId ? await provider.Grant.find(existingId) : undefined;
  const previously = await existingScopes(ctx);
  const grant = existing ?? new provider.Grant({ accountId: session.accountId, clientId: ctx.clientId });
  if (details.missingOIDCScope) grant.addOIDCScope(details.missingOIDCScope.join(' '));
  if (details.missingOIDCClaims) grant.addOIDCClaims(details.missingOIDCClaims);
  for (const [indicator, scopes] of Object.entries(details.missingResourceScopes ?? {})) {
    grant.addResourceScope(indicator, scopes.join(' '));
  }
  const grantId = await grant.save();
  logger.info({
    event: 'consent', decision: 'granted', time: new Date().toISOString(), clientId: ctx.clientId,
    subject: session.accountId, grantId, delta: previously.length > 0,
    added: requestedScopes(details), previouslyGranted: previously,
  }, 'consent decision');
  await provider.interactionFinished(ctx.req, ctx.res, { consent: { grantId } }, { mergeWithLastSubmission: true });
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
  let interaction: Interaction;
  try {
    interaction = await deps.provider.interactionDetails(req, res);
  } catch {
    html(res, 400, errorPage('This sign-in request has expired or is invalid. Start again from the application.'));
    return true;
  }
  const rawClientId = interaction.params['client_id'];
  const clientId = typeof rawClientId === 'string' ? rawClientId : '';
  const client = await deps.provider.Client.find(clientId);
  if (!client) {
    html(res, 400, errorPage('Unknown or disabled client.'));
    return true;
  }
  const metadata = client.metadata() as Record<string, unknown>;
  const clientName = typeof metadata['client_name'] === 'string' ? metadata['client_name'] : clientId;
  const ctx: Context = { deps, req, res, interaction, clientId, clientName, metadata };

  if (req.method === 'GET' && action === undefined) {
    await showPrompt(ctx);
  } else if (req.method !== 'POST' || action === undefined) {
    html(res, 405, errorPage('Method not allowed.'));
  } else if (action === 'abort') {
    await abort(ctx);
  } else if (action === 'login') {
    await login(ctx, await readForm(req));
  } else {
    await confirm(ctx);
  }
  return true;
}
