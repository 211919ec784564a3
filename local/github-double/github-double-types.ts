/**
 * The double's public types: how it is started and what a test holds once it runs.
 */
import type { Logger } from '../../runtime/core/logger.ts';
import type { RecordedDispatch } from './installation-routes.ts';
import type { IssueOidcTokenInput } from './oidc-issuer.ts';
import type { PayloadBuilders, WebhookEvent } from './payload-builders.ts';
import type { CommitFileInput, CommitResult } from './repository-commits.ts';
import type { SecondaryRateBudget } from './secondary-rate-limit.ts';
import type {
  Account,
  AddInstallationInput,
  AddOrganizationInput,
  AddRepositoryInput,
  AddUserInput,
  Installation,
  OrganizationRole,
  Permissions,
  Repository,
  User,
} from './state.ts';
import type { WebhookDelivery } from './webhook-sender.ts';
import type { WorkflowRuns } from './workflow-runs.ts';

export interface AppOptions {
  readonly slug?: string;
  readonly name?: string;
  /** Login of the account that owns the App. */
  readonly owner?: string;
  readonly permissions?: Permissions;
  readonly events?: readonly string[];
  readonly callbackUrls?: readonly string[];
  readonly webhookUrl?: string;
  /** Paths of the `single_file` permission; `.github/zekt.yml` by default. */
  readonly singleFilePaths?: readonly string[];
}

export interface StartGitHubDoubleOptions {
  /** Address to bind; `127.0.0.1` by default. */
  readonly host?: string;
  /** 0 (default) picks a free port. */
  readonly port?: number;
  /** The main App (Zekt's own); its key and secrets are generated. */
  readonly app?: AppOptions;
  /** Clock in epoch milliseconds; tests pin it to check expiries. */
  readonly now?: () => number;
  /** Used to deliver webhooks; global `fetch` by default. */
  readonly fetch?: typeof fetch;
  /** How long a webhook delivery may take (GitHub: 10 s). */
  readonly webhookTimeoutMs?: number;
  /** Requests per hour per authenticated credential (GitHub: 5,000). */
  readonly rateLimitPerHour?: number;
  /** Secondary limits of every installation (GitHub's: 80 and 500 content-creating requests a minute and an hour, 900 points a minute). */
  readonly secondaryRateBudget?: Partial<SecondaryRateBudget>;
  readonly log?: Logger;
}

/** An App's credentials as GitHub hands them to its owner. */
export interface GitHubAppCredentials {
  readonly id: number;
  readonly slug: string;
  readonly clientId: string;
  readonly clientSecret: string;
  /** PKCS#1 PEM private key. */
  readonly privateKey: string;
  readonly webhookSecret: string;
  /** Id of the App's webhook (`X-GitHub-Hook-ID`). */
  readonly hookId: number;
}

/** A request or payload that breaks GitHub's published descriptions, or that the double cannot serve. */
export interface SchemaErrorRecord {
  readonly kind: 'unknown-endpoint' | 'invalid-request' | 'invalid-response' | 'invalid-webhook' | 'unimplemented';
  /** `METHOD /template` (or the raw path for unknown endpoints, the webhook key for webhooks). */
  readonly endpoint: string;
  readonly operationId?: string;
  readonly problems: readonly string[];
}

export interface GitHubDouble {
  /** REST API base URL (`GITHUB_API_URL`). */
  readonly apiUrl: string;
  /** Web base URL, OAuth lives here (`GITHUB_WEB_URL`). */
  readonly webUrl: string;
  /** Actions OIDC issuer (`GITHUB_OIDC_ISSUER`). */
  readonly oidcIssuer: string;
  /** Base URL of the control API (`…/_double`, loopback clients only). */
  readonly controlUrl: string;
  /** The main App's credentials. */
  readonly app: GitHubAppCredentials;
  /** Builders of real-shaped webhook payloads for the double's state. */
  readonly payloads: PayloadBuilders;
  /** Accepted `repository_dispatch` calls, oldest first. */
  readonly dispatches: readonly RecordedDispatch[];
  /** Every webhook delivery attempt, oldest first. */
  readonly deliveries: readonly WebhookDelivery[];
  /** Everything that broke GitHub's descriptions, oldest first. */
  readonly schemaErrors: readonly SchemaErrorRecord[];
  /** Returns the schema errors recorded so far and forgets them. */
  takeSchemaErrors(): SchemaErrorRecord[];
  addUser(input: AddUserInput): User;
  /** An organisation with owners (`admins`) and plain members, all seeded users. */
  addOrganization(input: AddOrganizationInput): Account;
  /** Adds a user to an organisation, or changes their role. */
  setOrganizationRole(organization: string, login: string, role: OrganizationRole): void;
  addRepository(input: AddRepositoryInput): Repository;
  /** Writes (or, with `undefined`, deletes) a file on a repository's default branch, silently. */
  setFile(repository: string, path: string, content: string | undefined): void;
  /** Commits one file change on the default branch and sends the `push` webhook (as the control API does). */
  commitFile(input: CommitFileInput): Promise<CommitResult>;
  /** Installs an App (the main one by default) on an account, silently. */
  addInstallation(input: AddInstallationInput & { readonly app?: GitHubAppCredentials }): Installation;
  /** Installs the main App and sends `installation.created` with the installer as `sender` (as the control API does). */
  installApp(input: AddInstallationInput): Promise<Installation>;
  /** Workflow runs that send their webhooks (as the control API's runs do). */
  readonly runs: WorkflowRuns;
  /** Changes the secondary rate budget of every installation, or of one; returns it. */
  setSecondaryRateBudget(change: Partial<SecondaryRateBudget>, installationId?: number): SecondaryRateBudget;
  removeInstallation(installationId: number): void;
  setInstallationSuspended(installationId: number, suspended: boolean): void;
  /** Registers another App (for cross-App checks); its key is generated. */
  addApp(options?: AppOptions): Promise<GitHubAppCredentials>;
  setWebhookUrl(url: string | undefined, app?: GitHubAppCredentials): void;
  setCallbackUrls(urls: readonly string[], app?: GitHubAppCredentials): void;
  /** The user who consents in the OAuth flow when the request names none; the first seeded user otherwise. */
  signInAs(login: string | undefined): void;
  issueOidcToken(input: IssueOidcTokenInput): Promise<string>;
  rotateOidcKey(): Promise<void>;
  /** Delivers a webhook (after checking it against GitHub's webhook schemas). */
  sendWebhook(input: WebhookEvent & { readonly app?: GitHubAppCredentials }): Promise<WebhookDelivery>;
  /** Resolves when background work (redeliveries) has finished. */
  settled(): Promise<void>;
  close(): Promise<void>;
}
