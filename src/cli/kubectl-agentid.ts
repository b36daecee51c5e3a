#!/usr/bin/env node
/**
 * `kubectl agentid`: kubectl finds this executable (kubectl-agentid) on PATH and runs it with the
 * arguments after `kubectl agentid`. See docs/kubectl-plugin.md.
 */
import { run } from './main.ts';

const code = await run(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env });
// Let stdout drain (a pipe may be slow) before the exit code is set.
process.exitCode = code;
