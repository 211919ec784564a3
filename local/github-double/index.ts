/** The GitHub API double's public surface. */
export { startGitHubDouble, defaultAppEvents, defaultAppPermissions } from './start-github-double.ts';
export type { GitHubDouble, GitHubAppCredentials, SchemaErrorRecord, StartGitHubDoubleOptions, AppOptions } from './start-github-double.ts';
export { seedDefaultWorld, defaultWorld } from './seed-default-world.ts';
export type { PayloadBuilders, WebhookEvent, WorkflowRunInput, WorkflowJobInput } from './payload-builders.ts';
export type { RecordedDispatch } from './installation-routes.ts';
export type { WebhookDelivery } from './webhook-sender.ts';
export { WebhookSchemaError, WebhookNotConfiguredError } from './webhook-sender.ts';
export type { IssueOidcTokenInput } from './oidc-issuer.ts';
export { StateConflictError, UnknownEntityError } from './state.ts';
