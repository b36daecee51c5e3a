/**
 * `--help` texts. Exit codes are part of the contract with scripts: keep them in step with
 * exit.ts and docs/kubectl-plugin.md.
 */
import type { Command } from './args.ts';

const GLOBAL = `Global flags:
  --kubeconfig PATH      kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)
  --context NAME         kubeconfig context to use
  -n, --namespace NS     namespace (default: the context's namespace, then "default")
  -o, --output FORMAT    table (default) or json
  -h, --help             help`;

const EXIT_CODES = `Exit codes:
  0  done (revocation Completed, rotation handled, suspension lifted)
  1  failed (the GrantRevocation ended Failed; credentials not ready after rotation)
  2  usage error (bad flag or argument, or input the API server rejected)
  3  timed out waiting (--timeout); the request stays in the cluster and may still finish
  4  not found or forbidden (agent, GrantRevocation, or RBAC)
  5  other error (API server unreachable or an unexpected error)`;

const WAIT = `  --timeout DURATION     how long to wait (default 60s)
  --no-wait              return once the request is made`;

const TEXTS: Record<Command, string> = {
  help: `kubectl agentid: status, history and incident response for agent-identity-operator.

Usage:
  kubectl agentid status [AGENT] [-A]
  kubectl agentid history AGENT
  kubectl agentid revoke AGENT --reason TEXT [--suspend] [--subject USER] [--scope S]...
  kubectl agentid rotate AGENT
  kubectl agentid lift AGENT|GRANTREVOCATION --reason TEXT [--all]

Run "kubectl agentid COMMAND --help" for a command's flags.

${GLOBAL}

${EXIT_CODES}
`,
  status: `Show agents: client ID, Ready, ceiling (granted scopes), denied scopes, policies, last and
next rotation, and suspension (by which GrantRevocation). With AGENT, show one agent in detail.

Usage:
  kubectl agentid status [AGENT] [-n NS | -A] [-o json]

Flags:
  -A, --all-namespaces   agents in every namespace

${GLOBAL}

${EXIT_CODES}
`,
  history: `Show how AGENT came to hold its scopes: every ceiling change newest first (time, decision,
scopes added and removed, deciding policy, generation) and the GrantRevocations that targeted it.

Usage:
  kubectl agentid history AGENT [-n NS] [-o json]

${GLOBAL}

${EXIT_CODES}
`,
  revoke: `Create a GrantRevocation for AGENT and wait, showing progress and each result as it
arrives, until it is Completed (exit 0) or Failed (exit 1). Safe to re-run with the same --name.

Usage:
  kubectl agentid revoke AGENT --reason TEXT [flags]

Flags:
  --reason TEXT          why (required; recorded on the GrantRevocation)
  --suspend              also suspend the agent until the suspension is lifted (kubectl agentid lift)
  --subject USER         revoke only this user's grants
  --scope SCOPE          revoke only grants holding this scope (repeatable, or comma-separated)
  --action ACTION        RevokeGrants (default), RotateCredentials, Suspend, DeleteRegistration
                         (repeatable, or comma-separated)
  --incident REF         incident reference
  --name NAME            GrantRevocation name (default AGENT-yyyymmddhhmmss, UTC); re-running with the
                         same name and flags waits on the existing one instead of creating another
${WAIT}

${GLOBAL}

${EXIT_CODES}
`,
  rotate: `Rotate AGENT's credentials now: sets the agentidentity.dev/rotate annotation to a new value
and waits until the operator reports it handled (status.credentials.lastRotationRequest).

Usage:
  kubectl agentid rotate AGENT [flags]

Flags:
${WAIT}

${GLOBAL}

${EXIT_CODES}
`,
  lift: `Lift a suspension: records --reason (and who lifted) on the suspending GrantRevocation as
annotations, then deletes it. Give the GrantRevocation, or the AGENT to lift what suspends it.

Usage:
  kubectl agentid lift AGENT|GRANTREVOCATION --reason TEXT [flags]

Flags:
  --reason TEXT          why the suspension is lifted (required)
  --all                  lift every GrantRevocation suspending AGENT (required when more than one)
${WAIT}

${GLOBAL}

${EXIT_CODES}
`,
};

/** Help for `command`, or the overview. */
export function helpText(command: Command | undefined): string {
  return TEXTS[command ?? 'help'];
}
