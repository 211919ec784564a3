/**
 * Facts about Azure resource types the policies share: which ones cannot carry tags, and how to
 * tell a role assignment scope that covers more than one resource.
 */

/** Sub-resources, RBAC and policy objects: Azure has no tags for them. */
export const untaggableTypes: ReadonlySet<string> = new Set([
  'azure-native:storage:BlobServiceProperties',
  'azure-native:storage:BlobContainer',
  // A blob carries metadata, not ARM tags (the deployment package).
  'azure-native:storage:Blob',
  'azure-native:storage:Queue',
  'azure-native:storage:Table',
  'azure-native:storage:ManagementPolicy',
  'azure-native:web:WebAppFtpAllowed',
  'azure-native:web:WebAppScmAllowed',
  'azure-native:authorization:RoleAssignment',
  'azure-native:authorization:RoleDefinition',
  'azure-native:authorization:PolicyDefinition',
  'azure-native:authorization:PolicyAssignment',
  'azure-native:monitor:DiagnosticSetting',
]);

/** True for an Azure resource type that must carry Zekt's tags. */
export function isTaggable(type: string): boolean {
  return type.startsWith('azure-native:') && !untaggableTypes.has(type);
}

/**
 * A scope above a single resource: the tenant root (`/`), a management group, a subscription or a
 * resource group. Such an assignment reaches every resource beneath it, i.e. other tenants.
 */
export function isBroadScope(scope: string): boolean {
  const s = scope.replace(/\/+$/, '');
  return (
    s === '' ||
    /^\/providers\/Microsoft\.Management\/managementGroups\/[^/]+$/i.test(s) ||
    /^\/subscriptions\/[^/]+$/i.test(s) ||
    /^\/subscriptions\/[^/]+\/resourceGroups\/[^/]+$/i.test(s)
  );
}
