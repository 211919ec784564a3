/**
 * The double's whole world, in memory: accounts (users and organisations), repositories with
 * their files, GitHub Apps with their keys, and installations of those Apps. Tests seed it through
 * the double (`addUser`, `addInstallation`, …); the HTTP handlers only read it. Names are matched
 * case-insensitively, as on GitHub.
 */
import { createHash, type KeyObject } from 'node:crypto';

/** A GitHub App permission level; `admin` exists for a few permissions only. */
export type PermissionLevel = 'read' | 'write' | 'admin';
export type Permissions = Readonly<Record<string, PermissionLevel>>;

export interface Account {
  readonly id: number;
  readonly nodeId: string;
  readonly login: string;
  readonly type: 'User' | 'Organization';
  readonly createdAt: string;
}

export interface User extends Account {
  readonly type: 'User';
  readonly name: string | null;
  readonly email: string | null;
  /** Lower-cased logins of the organisations the user belongs to (their installations are the user's too). */
  readonly organizations: ReadonlySet<string>;
}

/** A member's role in an organisation, as GitHub's membership API names it. */
export type OrganizationRole = 'admin' | 'member';

export interface Repository {
  readonly id: number;
  readonly nodeId: string;
  readonly name: string;
  readonly owner: Account;
  readonly private: boolean;
  readonly defaultBranch: string;
  /** Path → file content (UTF-8), on the default branch. */
  readonly files: Map<string, string>;
  /** The commit the default branch points at (changes with each commit of the control API). */
  headSha: string;
  readonly createdAt: string;
}

export interface App {
  readonly id: number;
  readonly slug: string;
  readonly name: string;
  readonly nodeId: string;
  readonly clientId: string;
  readonly clientSecret: string;
  /** PKCS#1 PEM, the format GitHub hands out when a key is generated for an App. */
  readonly privateKey: string;
  readonly publicKey: KeyObject;
  readonly webhookSecret: string;
  readonly hookId: number;
  readonly owner: Account;
  /** The permissions the App asks for; installations grant these unless seeded otherwise. */
  readonly permissions: Permissions;
  readonly events: readonly string[];
  /** The paths its `single_file` permission names; installations get these unless seeded otherwise. */
  readonly singleFilePaths: readonly string[];
  /** Registered OAuth callback URLs; the first is the default `redirect_uri`. */
  readonly callbackUrls: string[];
  webhookUrl: string | undefined;
  readonly createdAt: string;
}

export interface Installation {
  readonly id: number;
  readonly app: App;
  readonly account: Account;
  repositorySelection: 'all' | 'selected';
  /** The selected repositories (ignored when `repositorySelection` is `all`). */
  readonly repositoryIds: Set<number>;
  permissions: Permissions;
  events: readonly string[];
  /** Paths a `single_file` permission covers. */
  readonly singleFilePaths: readonly string[];
  /** The user who installed the App (the `sender` of `installation.created`), when known. */
  readonly installer: User | undefined;
  readonly createdAt: string;
  suspendedAt: string | null;
}

export interface AddUserInput {
  readonly login: string;
  readonly name?: string;
  readonly email?: string;
  readonly organizations?: readonly string[];
}

export interface AddRepositoryInput {
  /** `owner/name`. */
  readonly fullName: string;
  readonly ownerType?: 'User' | 'Organization';
  readonly private?: boolean;
  readonly defaultBranch?: string;
  /** Path → content. */
  readonly files?: Readonly<Record<string, string>>;
}

export interface AddInstallationInput {
  /** Login of the account the App is installed on (created when new). */
  readonly account: string;
  /** `Organization` unless the account already exists or is a seeded user. */
  readonly accountType?: 'User' | 'Organization';
  /** Repository names (in the account) or full inputs; created when new. */
  readonly repositories?: readonly (string | Omit<AddRepositoryInput, 'fullName' | 'ownerType'> & { name: string })[];
  /** `selected` (default) limits the installation to `repositories`; `all` covers every repository of the account. */
  readonly repositorySelection?: 'all' | 'selected';
  /** Granted permissions; the App's own by default. */
  readonly permissions?: Permissions;
  /** Subscribed events; the App's own by default. */
  readonly events?: readonly string[];
  readonly singleFilePaths?: readonly string[];
  readonly suspended?: boolean;
  /** Login of the user who installs the App (a seeded user). */
  readonly installer?: string;
}

export interface AddOrganizationInput {
  readonly login: string;
  /** Logins of seeded users who own the organisation. */
  readonly admins?: readonly string[];
  /** Logins of seeded users who are plain members. */
  readonly members?: readonly string[];
}

export interface AddAppInput {
  readonly slug: string;
  readonly name?: string;
  readonly owner: string;
  readonly permissions: Permissions;
  readonly events: readonly string[];
  readonly callbackUrls?: readonly string[];
  readonly webhookUrl?: string;
  readonly singleFilePaths?: readonly string[];
  readonly clientId: string;
  readonly clientSecret: string;
  readonly webhookSecret: string;
  readonly privateKey: string;
  readonly publicKey: KeyObject;
}

/** Thrown for a seeding call that contradicts the state (duplicate names, unknown references). */
export class StateConflictError extends Error {
  override name = 'StateConflictError';
  constructor(message: string) {
    super(message);
  }
}

/** Thrown when a test names a repository, installation or user the double does not know. */
export class UnknownEntityError extends Error {
  override name = 'UnknownEntityError';
  constructor(
    readonly kind: 'repository' | 'installation' | 'user' | 'app' | 'account',
    readonly key: string,
  ) {
    super(`unknown ${kind}: ${key}`);
  }
}

const levels: Record<PermissionLevel, number> = { read: 1, write: 2, admin: 3 };

/** Whether `granted` covers `wanted` (write covers read, admin covers both). */
export function covers(granted: PermissionLevel | undefined, wanted: PermissionLevel): boolean {
  return granted !== undefined && levels[granted] >= levels[wanted];
}

export class GitHubState {
  readonly accounts = new Map<string, Account>();
  readonly users = new Map<string, User>();
  readonly repositories = new Map<number, Repository>();
  readonly apps = new Map<number, App>();
  readonly installations = new Map<number, Installation>();
  /** Lower-cased organisation login → lower-cased user login → role. */
  readonly memberships = new Map<string, Map<string, OrganizationRole>>();
  // Distinct ranges keep ids of different kinds apart, so a test mixing them up fails.
  private nextAccountId = 1_000_001;
  private nextRepositoryId = 5_000_001;
  private nextInstallationId = 40_000_001;
  private nextAppId = 900_001;
  private nextHookId = 480_000_001;

  constructor(private readonly now: () => number) {}

  private timestamp(): string {
    return new Date(this.now()).toISOString().replace(/\.\d{3}Z$/, 'Z');
  }

  account(login: string, type: 'User' | 'Organization' = 'Organization'): Account {
    const existing = this.accounts.get(login.toLowerCase());
    if (existing) return existing;
    const id = this.nextAccountId++;
    const account: Account = { id, nodeId: nodeId(type === 'User' ? 'U' : 'O', id), login, type, createdAt: this.timestamp() };
    this.accounts.set(login.toLowerCase(), account);
    return account;
  }

  addUser(input: AddUserInput): User {
    const key = input.login.toLowerCase();
    if (this.accounts.has(key)) throw new StateConflictError(`account ${input.login} already exists`);
    const id = this.nextAccountId++;
    const user: User = {
      id,
      nodeId: nodeId('U', id),
      login: input.login,
      type: 'User',
      createdAt: this.timestamp(),
      name: input.name ?? null,
      email: input.email ?? null,
      organizations: new Set<string>(),
    };
    this.accounts.set(key, user);
    this.users.set(key, user);
    for (const org of input.organizations ?? []) this.setMembership(org, user, 'member');
    return user;
  }

  /** Adds (or changes) a user's membership of an organisation, creating the organisation when new. */
  setMembership(organization: string, user: User, role: OrganizationRole): void {
    const org = this.account(organization, 'Organization');
    if (org.type !== 'Organization') throw new StateConflictError(`${organization} is a user, not an organisation`);
    const key = org.login.toLowerCase();
    const members = this.memberships.get(key) ?? new Map<string, OrganizationRole>();
    members.set(user.login.toLowerCase(), role);
    this.memberships.set(key, members);
    (user.organizations as Set<string>).add(key);
  }

  addOrganization(input: AddOrganizationInput): Account {
    if (this.accounts.has(input.login.toLowerCase())) throw new StateConflictError(`account ${input.login} already exists`);
    const admins = (input.admins ?? []).map((login) => this.user(login));
    const members = (input.members ?? []).map((login) => this.user(login));
    const org = this.account(input.login, 'Organization');
    for (const user of members) this.setMembership(org.login, user, 'member');
    for (const user of admins) this.setMembership(org.login, user, 'admin');
    return org;
  }

  /** A user's role in an organisation, or `undefined` when they are not a member. */
  roleIn(organization: string, user: User): OrganizationRole | undefined {
    return this.memberships.get(organization.toLowerCase())?.get(user.login.toLowerCase());
  }

  user(login: string): User {
    const user = this.users.get(login.toLowerCase());
    if (!user) throw new UnknownEntityError('user', login);
    return user;
  }

  addRepository(input: AddRepositoryInput): Repository {
    const [ownerLogin, name, ...rest] = input.fullName.split('/');
    if (!ownerLogin || !name || rest.length > 0) throw new StateConflictError(`"${input.fullName}" is not owner/name`);
    if (this.findRepository(ownerLogin, name)) throw new StateConflictError(`repository ${input.fullName} already exists`);
    const owner = this.account(ownerLogin, input.ownerType);
    const id = this.nextRepositoryId++;
    const repository: Repository = {
      id,
      nodeId: nodeId('R', id),
      name,
      owner,
      private: input.private ?? true,
      defaultBranch: input.defaultBranch ?? 'main',
      files: new Map(Object.entries(input.files ?? {})),
      headSha: createHash('sha1').update(`initial commit of repository ${id}`).digest('hex'),
      createdAt: this.timestamp(),
    };
    this.repositories.set(id, repository);
    return repository;
  }

  findRepository(owner: string, name: string): Repository | undefined {
    const o = owner.toLowerCase();
    const n = name.toLowerCase();
    for (const repository of this.repositories.values()) {
      if (repository.owner.login.toLowerCase() === o && repository.name.toLowerCase() === n) return repository;
    }
    return undefined;
  }

  repository(fullName: string): Repository {
    const [owner = '', name = ''] = fullName.split('/');
    const repository = this.findRepository(owner, name);
    if (!repository) throw new UnknownEntityError('repository', fullName);
    return repository;
  }

  addApp(input: AddAppInput): App {
    const owner = this.account(input.owner);
    const id = this.nextAppId++;
    const app: App = {
      id,
      slug: input.slug,
      name: input.name ?? input.slug,
      nodeId: nodeId('A', id),
      clientId: input.clientId,
      clientSecret: input.clientSecret,
      privateKey: input.privateKey,
      publicKey: input.publicKey,
      webhookSecret: input.webhookSecret,
      hookId: this.nextHookId++,
      owner,
      permissions: input.permissions,
      events: input.events,
      singleFilePaths: input.singleFilePaths ?? [],
      callbackUrls: [...(input.callbackUrls ?? [])],
      webhookUrl: input.webhookUrl,
      createdAt: this.timestamp(),
    };
    this.apps.set(id, app);
    return app;
  }

  addInstallation(app: App, input: AddInstallationInput): Installation {
    const existingUser = this.users.get(input.account.toLowerCase());
    const account = this.account(input.account, input.accountType ?? existingUser?.type ?? 'Organization');
    for (const other of this.installations.values()) {
      if (other.app.id === app.id && other.account.id === account.id) {
        throw new StateConflictError(`${app.slug} is already installed on ${account.login}`);
      }
    }
    const installer = input.installer === undefined ? undefined : this.user(input.installer);
    const repositoryIds = new Set<number>();
    for (const entry of input.repositories ?? []) {
      const spec = typeof entry === 'string' ? { name: entry } : entry;
      const repository =
        this.findRepository(account.login, spec.name) ??
        this.addRepository({ ...spec, fullName: `${account.login}/${spec.name}`, ownerType: account.type });
      repositoryIds.add(repository.id);
    }
    const installation: Installation = {
      id: this.nextInstallationId++,
      app,
      account,
      repositorySelection: input.repositorySelection ?? 'selected',
      repositoryIds,
      permissions: input.permissions ?? app.permissions,
      events: input.events ?? app.events,
      singleFilePaths: input.singleFilePaths ?? app.singleFilePaths,
      installer,
      createdAt: this.timestamp(),
      suspendedAt: input.suspended ? this.timestamp() : null,
    };
    this.installations.set(installation.id, installation);
    return installation;
  }

  installation(id: number): Installation {
    const installation = this.installations.get(id);
    if (!installation) throw new UnknownEntityError('installation', String(id));
    return installation;
  }

  /** The repositories an installation reaches, by id order. */
  installationRepositories(installation: Installation): Repository[] {
    return [...this.repositories.values()].filter((r) =>
      installation.repositorySelection === 'all' ? r.owner.id === installation.account.id : installation.repositoryIds.has(r.id),
    );
  }

  /** The installation of `app` that reaches `repository`, if any. */
  installationFor(app: App, repository: Repository): Installation | undefined {
    for (const installation of this.installations.values()) {
      if (installation.app.id !== app.id) continue;
      if (this.installationRepositories(installation).some((r) => r.id === repository.id)) return installation;
    }
    return undefined;
  }

  /**
   * Installations a user can see with a user access token: those on their own account and on
   * organisations they belong to.
   * https://docs.github.com/rest/apps/installations#list-app-installations-accessible-to-the-user-access-token
   */
  userInstallations(user: User, app: App): Installation[] {
    return [...this.installations.values()].filter(
      (i) =>
        i.app.id === app.id &&
        (i.account.id === user.id || (i.account.type === 'Organization' && user.organizations.has(i.account.login.toLowerCase()))),
    );
  }
}

/** A stable, opaque node id in GitHub's legacy base64 style. */
function nodeId(kind: string, id: number): string {
  return Buffer.from(`0${kind}${createHash('sha1').update(`${kind}:${id}`).digest('hex').slice(0, 6)}:${id}`).toString('base64');
}
