/** The GitHub API double's public surface. */
export { startGitHubDouble, defaultAppEvents, defaultAppPermissions, defaultSingleFilePaths } from './start-github-double.ts';
export type { GitHubDouble, GitHubAppCredentials, SchemaErrorRecord, StartGitHubDoubleOptions, AppOptions } from './github-double-types.ts';
export { seedDefaultWorld, defaultWorld } from './seed-default-world.ts';
export type { PayloadBuilders, WebhookEvent, WorkflowRunInput, WorkflowJobInput, PushInput } from './payload-builders.ts';
export type { RecordedDispatch } from './installation-routes.ts';
export type { WebhookDelivery } from './webhook-sender.ts';
export { WebhookSchemaError, WebhookNotConfiguredError } from './webhook-sender.ts';
export type { IssueOidcTokenInput } from './oidc-issuer.ts';
export { StateConflictError, UnknownEntityError } from './state.ts';
export type { OrganizationRole } from './state.ts';
export type { StartRunInput, RunAttemptHandle, WorkflowRun, WorkflowRuns } from './workflow-runs.ts';
export type { CommitFileInput, CommitResult } from './repository-commits.ts';
export { githubSecondaryRateBudget, type SecondaryRateBudget } from './secondary-rate-limit.ts';
