import type { DevStack } from './stack.ts';
import { ADMIN_TOKEN_SECRET, INITIAL_ACCESS_TOKEN_SECRET, OPERATOR_NAMESPACE } from './stack.ts';

/** The short tour `make dev` prints once the stack is ready. */
export function tour(stack: DevStack, devDir: string): string {
  return `
agent-identity-operator dev stack is ready.

  Kubernetes API  ${stack.controlPlane.server}   (kubeconfig: ${devDir}/kubeconfig)
  Embedded IdP    ${stack.issuer}   (login as alice / wonderland)
  CRDs installed  ${stack.crds.length > 0 ? stack.crds.join(', ') : '(none yet in crds/)'}
  Secrets         ${OPERATOR_NAMESPACE}/${INITIAL_ACCESS_TOKEN_SECRET}, ${OPERATOR_NAMESPACE}/${ADMIN_TOKEN_SECRET}

In another terminal:
  set -a; . ${devDir}/env; set +a
  "$KUBECTL" get crds
  "$KUBECTL" -n ${OPERATOR_NAMESPACE} get secrets
  curl -s "$IDP_ISSUER/.well-known/openid-configuration"
  # register a client by hand: see the curl line at the end of ${devDir}/env

Not part of the stack yet: the operator (src/main.ts) and the samples (config/samples).
Logs: ${devDir}/dev.log. Ctrl-C stops everything; state in ${devDir}/ survives (make clean wipes it).
`;
}
