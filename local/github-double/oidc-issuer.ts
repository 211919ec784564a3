/**
 * GitHub Actions' OIDC provider, for runs of the double's repositories: a discovery document, a
 * JWKS, and RS256 ID tokens with GitHub's claims
 * (https://docs.github.com/actions/security-for-github-actions/security-hardening-your-deployments/about-security-hardening-with-openid-connect#understanding-the-oidc-token).
 * As on GitHub, numeric ids (`repository_id`, `run_id`, `run_number`, …) are strings, and `sub` is
 * `repo:<owner>/<repo>:environment:<name>` in a job with an environment,
 * `repo:<owner>/<repo>:pull_request` for pull requests, `repo:<owner>/<repo>:ref:<ref>` otherwise.
 */
import { createHash, randomUUID, type KeyObject } from 'node:crypto';
import { SignJWT, calculateJwkThumbprint, exportJWK, type JWK } from 'jose';
import type { JsonObject } from './json.ts';
import { generateRsaKeyPair } from './rsa-keys.ts';
import type { GitHubState } from './state.ts';

/** GitHub's ID tokens are valid for a few minutes; its documented example spans iat-600 … iat+300. */
export const oidcTokenLifetimeSeconds = 300;
export const oidcNotBeforeSkewSeconds = 600;

export interface IssueOidcTokenInput {
  /** `owner/name` of a repository the double knows. */
  readonly repository: string;
  /** The `aud` claim (the Zekt Action asks for Zekt's own audience). */
  readonly audience: string;
  readonly runId: number;
  readonly runNumber?: number;
  readonly runAttempt?: number;
  /** Workflow name (`workflow` claim); `CI` by default. */
  readonly workflow?: string;
  /** Workflow file in the repository; `.github/workflows/ci.yml` by default. */
  readonly workflowPath?: string;
  /** `refs/heads/<default branch>` by default. */
  readonly ref?: string;
  readonly sha?: string;
  readonly eventName?: string;
  /** Login of the actor; the repository owner by default. */
  readonly actor?: string;
  readonly environment?: string;
  /** A reusable workflow's `owner/repo/path@ref`; the calling workflow's own by default. */
  readonly jobWorkflowRef?: string;
  /** Seconds after `iat` the token expires (GitHub's lifetime by default). */
  readonly lifetimeSeconds?: number;
}

export interface OidcIssuer {
  readonly issuer: string;
  discovery(): JsonObject;
  jwks(): JsonObject;
  issue(input: IssueOidcTokenInput): Promise<string>;
  /** Starts signing with a fresh key; the old one stays in the JWKS (as during GitHub's rotations). */
  rotateKey(): Promise<void>;
}

interface SigningKey {
  readonly kid: string;
  readonly privateKey: KeyObject;
  readonly jwk: JWK;
}

export async function createOidcIssuer(options: { issuer: string; state: GitHubState; now: () => number }): Promise<OidcIssuer> {
  const { issuer, state, now } = options;
  const keys: SigningKey[] = [await newKey()];

  return {
    issuer,

    discovery() {
      return {
        issuer,
        jwks_uri: `${issuer}/.well-known/jwks`,
        subject_types_supported: ['public', 'pairwise'],
        response_types_supported: ['id_token'],
        claims_supported: [
          'sub', 'aud', 'exp', 'iat', 'iss', 'jti', 'nbf', 'ref', 'sha', 'repository', 'repository_id',
          'repository_owner', 'repository_owner_id', 'enterprise', 'enterprise_id', 'run_id', 'run_number',
          'run_attempt', 'actor', 'actor_id', 'workflow', 'workflow_ref', 'workflow_sha', 'head_ref', 'base_ref',
          'event_name', 'ref_type', 'ref_protected', 'environment', 'environment_node_id', 'job_workflow_ref',
          'job_workflow_sha', 'repository_visibility', 'runner_environment',
        ],
        id_token_signing_alg_values_supported: ['RS256'],
        scopes_supported: ['openid'],
      };
    },

    jwks() {
      return { keys: keys.map((k) => ({ ...k.jwk })) } as unknown as JsonObject;
    },

    async issue(input) {
      const repository = state.repository(input.repository);
      const full = `${repository.owner.login}/${repository.name}`;
      const ref = input.ref ?? `refs/heads/${repository.defaultBranch}`;
      const eventName = input.eventName ?? 'push';
      const actor = input.actor ? state.account(input.actor, 'User') : repository.owner;
      const workflowPath = input.workflowPath ?? '.github/workflows/ci.yml';
      const workflowRef = `${full}/${workflowPath}@${ref}`;
      // The same default head SHA as the webhook builders use for this run.
      const sha = input.sha ?? createHash('sha1').update(`${full}:${input.runId}`).digest('hex');
      const sub = input.environment
        ? `repo:${full}:environment:${input.environment}`
        : eventName === 'pull_request'
          ? `repo:${full}:pull_request`
          : `repo:${full}:ref:${ref}`;
      const iat = Math.floor(now() / 1000);
      const key = keys.at(-1) as SigningKey;
      return new SignJWT({
        sub,
        ...(input.environment ? { environment: input.environment } : {}),
        ref,
        sha,
        repository: full,
        repository_owner: repository.owner.login,
        actor_id: String(actor.id),
        repository_visibility: repository.private ? 'private' : 'public',
        repository_id: String(repository.id),
        repository_owner_id: String(repository.owner.id),
        run_id: String(input.runId),
        run_number: String(input.runNumber ?? 1),
        run_attempt: String(input.runAttempt ?? 1),
        runner_environment: 'github-hosted',
        actor: actor.login,
        workflow: input.workflow ?? 'CI',
        head_ref: '',
        base_ref: '',
        event_name: eventName,
        ref_protected: 'false',
        ref_type: ref.startsWith('refs/tags/') ? 'tag' : 'branch',
        workflow_ref: workflowRef,
        workflow_sha: sha,
        job_workflow_ref: input.jobWorkflowRef ?? workflowRef,
        job_workflow_sha: sha,
      })
        .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: key.kid })
        .setIssuer(issuer)
        .setAudience(input.audience)
        .setJti(randomUUID())
        .setIssuedAt(iat)
        .setNotBefore(iat - oidcNotBeforeSkewSeconds)
        .setExpirationTime(iat + (input.lifetimeSeconds ?? oidcTokenLifetimeSeconds))
        .sign(key.privateKey);
    },

    async rotateKey() {
      keys.push(await newKey());
    },
  };
}

async function newKey(): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateRsaKeyPair();
  const jwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(jwk);
  return { kid, privateKey, jwk: { ...jwk, kid, alg: 'RS256', use: 'sig' } };
}
