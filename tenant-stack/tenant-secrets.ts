/**
 * The secrets every tenant compartment holds, on both targets: generated once by the tenant stack,
 * kept as Pulumi secrets in its (encrypted) state, and written to the tenant's vault, where the
 * tenant runtime reads them through `@azure/keyvault-secrets`.
 */
export const tenantSecretNames = {
  /** Standard Webhooks secret (`whsec_…`) the shared ingress signs forwards to this tenant with. */
  forwardSigningSecret: 'forward-signing-secret',
  /** 256-bit key (base64) that encrypts provider messages at rest. */
  messageEncryptionKey: 'message-encryption-key',
  /** The tenant runtime's credential towards the platform's token broker (local target). */
  brokerCredential: 'broker-credential',
} as const;

/** How each secret is generated: 32 random bytes, encoded. */
export const tenantSecretFormats: Readonly<Record<keyof typeof tenantSecretNames, { encoding: 'base64' | 'base64url'; prefix: string }>> = {
  // 32 bytes: inside Standard Webhooks' 24-64 byte range for `whsec_` secrets:
  // https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md#signature-scheme
  forwardSigningSecret: { encoding: 'base64', prefix: 'whsec_' },
  messageEncryptionKey: { encoding: 'base64', prefix: '' },
  brokerCredential: { encoding: 'base64url', prefix: '' },
};

/**
 * The ingress signs forwards, so the forward-signing secret is also written to the platform's
 * vault under this name (the name the ingress reads).
 */
export function platformForwardSecretName(tenantId: string): string {
  return `tenant-${tenantId}-forward-secret`;
}
