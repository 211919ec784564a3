/**
 * The token broker's audience: an Entra application (single-tenant) with a service principal, so
 * that a tenant runtime's managed identity can ask Entra for a token "for the broker"
 * (`<identifierUri>/.default`) and the broker can check the token was made for it.
 *
 * - The identifier URI is `api://<client id>`: Entra accepts that form in every directory (others
 *   need a verified domain): https://learn.microsoft.com/entra/identity-platform/reference-app-manifest#identifieruris-attribute
 * - Tokens are v2 (`requestedAccessTokenVersion: 2`): `aud` is then the client id, `azp` the
 *   caller's client id. A directory may still issue v1 tokens (`aud` = the URI, `appid`), so the
 *   verifier accepts both: https://learn.microsoft.com/entra/identity-platform/access-token-claims-reference
 * - No app roles and no secrets: the broker authenticates the caller's identity and maps it to a
 *   tenant itself (`runtime/identity/caller-authenticator.ts`); the application holds no credential.
 */
import * as pulumi from '@pulumi/pulumi';
import * as azuread from '@pulumi/azuread';

export interface BrokerApplicationArgs {
  /** Shown in the directory, e.g. `Zekt token broker (prod)`. */
  readonly displayName: string;
}

export class BrokerApplication extends pulumi.ComponentResource {
  /** The application (client) id: the `aud` of v2 tokens. */
  readonly clientId: pulumi.Output<string>;
  /** `api://<client id>`: what a tenant identity asks a token for, and the `aud` of v1 tokens. */
  readonly audience: pulumi.Output<string>;

  constructor(name: string, args: BrokerApplicationArgs, opts?: pulumi.ComponentResourceOptions) {
    super('zekt:platform:BrokerApplication', name, {}, opts);
    const child = { parent: this };
    const registration = new azuread.ApplicationRegistration(
      `${name}-registration`,
      {
        displayName: args.displayName,
        signInAudience: 'AzureADMyOrg',
        requestedAccessTokenVersion: 2,
        description: 'Audience of the tokens Zekt tenant runtimes present to the platform token broker.',
      },
      child,
    );
    const uri = new azuread.ApplicationIdentifierUri(
      `${name}-identifier-uri`,
      { applicationId: registration.id, identifierUri: pulumi.interpolate`api://${registration.clientId}` },
      child,
    );
    // Entra issues tokens only for an application that has a service principal in the directory.
    new azuread.ServicePrincipal(`${name}-principal`, { clientId: registration.clientId, appRoleAssignmentRequired: false }, child);
    this.clientId = registration.clientId;
    this.audience = uri.identifierUri;
    this.registerOutputs({ clientId: this.clientId, audience: this.audience });
  }
}
