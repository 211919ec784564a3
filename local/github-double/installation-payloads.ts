/**
 * Payloads of the events GitHub sends about an App itself: `installation`, `installation_repositories`
 * (https://docs.github.com/webhooks/webhook-events-and-payloads#installation) and `ping`. The sender
 * of an installation's events is its installer when the double knows it, as on GitHub, where the
 * `sender` of `installation.created` is the user who installed the App.
 */
import { cloneJson, isJsonObject, type JsonObject } from './json.ts';
import { MissingExampleError, definitionOf, exampleFor, type PayloadContext, type PayloadHelpers } from './example-payloads.ts';
import type { InstallationInput, InstallationRepositoriesInput, WebhookEvent } from './payload-builders.ts';
import type { App } from './state.ts';

export function createInstallationPayloads(context: PayloadContext, helpers: PayloadHelpers) {
  const { state, urls, representations: rep } = context;
  const { timestamp, rebase, user, senderFor, defaultSender, liteRepository } = helpers;
  const options = context;

  function installation(input: InstallationInput): WebhookEvent {
    const example = exampleFor('installation', input.action);
    const installation = state.installation(input.installationId);
    const sender = senderFor(input.sender, defaultSender(installation));
    const exInstallation = isJsonObject(example.installation) ? example.installation : {};
    const payload: JsonObject = {
      ...cloneJson(example),
      action: input.action,
      installation: {
        ...(rebase(exInstallation, { owner: installation.account.login }) as JsonObject),
        ...rep.installation(installation),
        account: user(exInstallation.account, installation.account),
      },
      repositories: state.installationRepositories(installation).map(liteRepository),
      requester: null,
      sender: user(example.sender, sender),
    };
    return { event: 'installation', payload };
  }

  function installationRepositories(input: InstallationRepositoriesInput): WebhookEvent {
    const example = exampleFor('installation_repositories', input.action);
    const installation = state.installation(input.installationId);
    const sender = senderFor(input.sender, defaultSender(installation));
    const exInstallation = isJsonObject(example.installation) ? example.installation : {};
    const changed = input.repositories.map((name) => liteRepository(state.repository(`${installation.account.login}/${name}`)));
    const payload: JsonObject = {
      ...cloneJson(example),
      action: input.action,
      installation: {
        ...(rebase(exInstallation, { owner: installation.account.login }) as JsonObject),
        ...rep.installation(installation),
        account: user(exInstallation.account, installation.account),
      },
      repository_selection: installation.repositorySelection,
      repositories_added: input.action === 'added' ? changed : [],
      repositories_removed: input.action === 'removed' ? changed : [],
      requester: null,
      sender: user(example.sender, sender),
    };
    return { event: 'installation_repositories', payload };
  }

  function ping(input: { app?: App } = {}): WebhookEvent {
    const app = input.app ?? options.mainApp();
    // The example of an App's ping is the one whose hook names an `app_id`.
    const example = definitionOf('ping').examples.find((e) => isJsonObject(e.hook) && 'app_id' in e.hook);
    if (!example) throw new MissingExampleError('ping', undefined);
    const hook = isJsonObject(example.hook) ? example.hook : {};
    const at = timestamp();
    const payload: JsonObject = {
      zen: example.zen ?? 'Keep it logically awesome.',
      hook_id: app.hookId,
      hook: {
        type: 'App',
        id: app.hookId,
        name: 'web',
        active: true,
        events: [...app.events],
        config: {
          ...(isJsonObject(hook.config) ? hook.config : {}),
          content_type: 'json',
          insecure_ssl: '0',
          url: app.webhookUrl ?? '',
        },
        updated_at: at,
        created_at: at,
        app_id: app.id,
        deliveries_url: `${urls.api}/app/hook/deliveries`,
      },
      sender: user(isJsonObject(example.sender) ? example.sender : undefined, app.owner),
    };
    return { event: 'ping', payload };
  }

  return { installation, installationRepositories, ping };
}
